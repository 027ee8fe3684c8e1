// process_* as the Prometheus process collector reports them (read from /proc at scrape time), and the
// few go_* gauges that have an honest C++ meaning. KrakenD's Datadog monitors read
// go_memstats_heap_alloc_bytes; here it is the allocator's live heap bytes (tcmalloc's
// generic.current_allocated_bytes, or glibc's mallinfo2().uordblks): bytes handed out by malloc and
// not yet freed, the closest equivalent of Go's "heap objects bytes".
#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#ifdef GATEWAY_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

#include <fstream>
#include <sstream>

#include "telemetry/metrics.h"
#include "telemetry/metrics_internal.h"

namespace gw::telemetry::detail {

void render_gauge(std::string& out, const std::string& name, const std::string& help, const std::string& type,
                  double value) {
  out = "# HELP " + name + (help.empty() ? "" : " " + help) + "\n# TYPE " + name + ' ' + type + '\n' + name +
        ' ' + format_go_float(value) + '\n';
}

namespace {

struct HeapStats {
  double live = 0, sys = 0, idle = 0;
};

#ifdef GATEWAY_TCMALLOC
#define kAllocator "tcmalloc"
HeapStats heap_stats() {
  auto property = [](const char* name) {
    std::size_t v = 0;
    return MallocExtension_GetNumericProperty(name, &v) ? static_cast<double>(v) : 0.0;
  };
  HeapStats h;
  h.live = property("generic.current_allocated_bytes");
  h.sys = property("generic.heap_size");
  h.idle = property("tcmalloc.pageheap_free_bytes") + property("tcmalloc.central_cache_free_bytes") +
           property("tcmalloc.thread_cache_free_bytes") + property("tcmalloc.transfer_cache_free_bytes");
  return h;
}
#else
#define kAllocator "glibc mallinfo2"
HeapStats heap_stats() {
  const struct mallinfo2 mi = mallinfo2();
  return {static_cast<double>(mi.uordblks), static_cast<double>(mi.arena + mi.hblkhd),
          static_cast<double>(mi.fordblks)};
}
#endif

double rlimit_value(int resource) {
  rlimit rl{};
  if (getrlimit(resource, &rl) != 0) return -1;
  // Unlimited is reported like client_golang: the max uint64 as a float.
  return rl.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0 : static_cast<double>(rl.rlim_cur);
}

double count_open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  double n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory handle opened just now
}

double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double v = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// /proc/self/net/netstat IpExt InOctets/OutOctets, which is what procfs' Netstat() gives client_golang.
std::pair<double, double> net_octets() {
  std::ifstream in("/proc/self/net/netstat");
  std::string header, values;
  while (std::getline(in, header) && std::getline(in, values)) {
    if (header.rfind("IpExt:", 0) != 0) continue;
    std::istringstream hs(header), vs(values);
    std::string k, v;
    double rx = 0, tx = 0;
    while (hs >> k && vs >> v) {
      if (k == "InOctets") rx = std::stod(v);
      if (k == "OutOctets") tx = std::stod(v);
    }
    return {rx, tx};
  }
  return {-1, -1};
}

struct Stat {
  double utime = 0, stime = 0, threads = 0, starttime = 0, vsize = 0, rss = 0;
  bool ok = false;
};

Stat read_stat() {
  Stat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string tok; rest >> tok;) f.push_back(tok);
  if (f.size() < 22) return s;
  s.utime = std::stod(f[11]);
  s.stime = std::stod(f[12]);
  s.threads = std::stod(f[17]);
  s.starttime = std::stod(f[19]);
  s.vsize = std::stod(f[20]);
  s.rss = std::stod(f[21]);
  s.ok = true;
  return s;
}

}  // namespace

void render_process_families(std::map<std::string, std::string>& out, bool process, bool go,
                             unsigned workers) {
  Stat st = read_stat();
  if (process && st.ok) {
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    auto g = [&](const char* name, const char* help, const char* type, double v) {
      if (v >= 0) render_gauge(out[name], name, help, type, v);
    };
    g("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
      (st.utime + st.stime) / tick);
    g("process_open_fds", "Number of open file descriptors.", "gauge", count_open_fds());
    g("process_max_fds", "Maximum number of open file descriptors.", "gauge", rlimit_value(RLIMIT_NOFILE));
    g("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", st.vsize);
    g("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", "gauge",
      rlimit_value(RLIMIT_AS));
    g("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", st.rss * page);
    g("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
      boot_time() + st.starttime / tick);
    auto [rx, tx] = net_octets();
    g("process_network_receive_bytes_total", "Number of bytes received by the process over the network.",
      "counter", rx);
    g("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.",
      "counter", tx);
  }
  if (go) {
    const HeapStats heap = heap_stats();
    auto g = [&](const char* name, const char* help, double v) {
      render_gauge(out[name], name, help, "gauge", v);
    };
    g("go_memstats_heap_alloc_bytes",
      "Alias for KrakenD dashboards: live heap bytes (" kAllocator ", allocated and not freed).", heap.live);
    g("go_memstats_alloc_bytes", "Alias of go_memstats_heap_alloc_bytes (live heap bytes, " kAllocator ").",
      heap.live);
    g("go_memstats_heap_sys_bytes", "Heap bytes obtained from the OS by malloc (" kAllocator ").", heap.sys);
    g("go_memstats_heap_idle_bytes", "Free bytes held by malloc, not returned to the OS (" kAllocator ").",
      heap.idle);
    if (st.ok) g("go_threads", "Number of OS threads of the process (/proc/self/stat).", st.threads);
    g("go_sched_gomaxprocs_threads", "Number of gateway worker threads running requests in parallel.",
      static_cast<double>(workers));
  }
}

}  // namespace gw::telemetry::detail
