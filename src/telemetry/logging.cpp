#include "telemetry/logging.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>

#include "telemetry/encoding.h"

namespace gw::telemetry {

using detail::json_string_into;

std::optional<LogLevel> parse_log_level(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "DEBUG") return LogLevel::debug;
  if (u == "INFO") return LogLevel::info;
  if (u == "WARNING" || u == "WARN") return LogLevel::warning;
  if (u == "ERROR") return LogLevel::error;
  if (u == "CRITICAL") return LogLevel::critical;
  return std::nullopt;
}

void LoggingConfig::apply_env(const EnvFn& env) {
  auto truthy = [](const char* v) {
    if (!v) return false;
    std::string s(v);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s == "true" || s == "1";
  };
  dd_logs_injection = truthy(env("DD_LOGS_INJECTION"));
  dd_128bit_trace_id_logging = truthy(env("DD_TRACE_128_BIT_TRACEID_LOGGING_ENABLED"));
  if (const char* v = env("DD_SERVICE"); v && *v) dd_service = v;
  if (const char* v = env("DD_ENV")) dd_env = v;
  if (const char* v = env("DD_VERSION")) dd_version = v;
}

namespace {

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars). Formatting the date part is the expensive bit; each thread
// caches it for the current second and only writes the milliseconds.
void timestamp_chars(char* out, std::int64_t unix_ns) {
  thread_local std::int64_t cached_sec = std::numeric_limits<std::int64_t>::min();
  thread_local char cached[20];
  const std::int64_t sec = unix_ns / 1000000000, ms = (unix_ns / 1000000) % 1000;
  if (sec != cached_sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  std::memcpy(out, cached, 19);
  out[19] = '.';
  out[20] = static_cast<char>('0' + ms / 100);
  out[21] = static_cast<char>('0' + ms / 10 % 10);
  out[22] = static_cast<char>('0' + ms % 10);
  out[23] = 'Z';
}

// {"timestamp":"..."[,"@timestamp":"...","@version":"1"]: at most kHeadBound bytes.
constexpr std::size_t kHeadBound = 96;
void head_to(detail::CharCursor& o, std::int64_t unix_ns, bool logstash) {
  char ts[24];
  timestamp_chars(ts, unix_ns);
  o.lit("{\"timestamp\":\"");
  o.put(std::string_view(ts, 24));
  o.put('"');
  if (logstash) {
    o.lit(",\"@timestamp\":\"");
    o.put(std::string_view(ts, 24));
    o.lit("\",\"@version\":\"1\"");
  }
}

void head_into(std::string& out, std::int64_t unix_ns, bool logstash) {
  detail::append_at_cursor(out, kHeadBound, [&](detail::CharCursor& o) { head_to(o, unix_ns, logstash); });
}

}  // namespace

std::string rfc3339_ms(std::int64_t unix_ns) {
  char ts[24];
  timestamp_chars(ts, unix_ns);
  return std::string(ts, 24);
}

namespace {
const char* level_name(LogLevel l) {
  static const char* names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
  return names[static_cast<int>(l)];
}

void number_into(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void field_into(std::string& out, const Field& f) {
  out += ',';
  json_string_into(out, f.key);
  out += ':';
  if (auto* s = std::get_if<std::string_view>(&f.value)) {
    json_string_into(out, *s);
  } else if (auto* i = std::get_if<std::int64_t>(&f.value)) {
    number_into(out, *i);
  } else if (auto* d = std::get_if<double>(&f.value)) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, *d);
    out.append(buf, r.ptr);
  } else {
    out += std::get<bool>(f.value) ? "true" : "false";
  }
}
// Under a container runtime stdout is a pipe, 64 KiB by default: writing one lane flush (flush_bytes)
// into it took several blocking writes, each a wake-up of both ends (bench: 19% req/s drop with stdout
// on a pipe vs 14% on a file). Asks for a pipe that holds a whole flush; the kernel caps the size at
// fs.pipe-max-size (1 MiB by default) and may refuse (pipe-user-pages limits): nothing else changes.
void widen_pipe(int fd, std::size_t flush_bytes) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  const int current = fcntl(fd, F_GETPIPE_SZ);
  for (std::size_t want : {std::size_t{1} << 20, 2 * flush_bytes, flush_bytes}) {
    if (current < 0 || static_cast<std::size_t>(current) >= want) return;
    if (fcntl(fd, F_SETPIPE_SZ, static_cast<int>(want)) >= 0) return;
  }
}
}  // namespace

Logger::Logger(LoggingConfig config, unsigned lanes) : config_(std::move(config)) {
  logstash_ = config_.format == "logstash";
  field_into(dd_suffix_, Field("dd.service", config_.dd_service));
  field_into(dd_suffix_, Field("dd.env", config_.dd_env));
  field_into(dd_suffix_, Field("dd.version", config_.dd_version));
  for (unsigned i = 0; i < std::max(1u, lanes); ++i) lanes_.push_back(std::make_unique<Lane>());
  if (config_.stdout_enabled) widen_pipe(config_.fd, config_.flush_bytes);
  thread_ = std::thread([this] { writer(); });
}

Logger::~Logger() {
  {
    std::lock_guard g(wake_m_);
    stop_ = true;
  }
  wake_cv_.notify_one();
  thread_.join();
  drain();
}

std::size_t Logger::correlation_bound() const { return 96 + dd_suffix_.size(); }

void Logger::correlation_to(detail::CharCursor& o, const LogCorrelation* corr) const {
  if (!corr || !config_.dd_logs_injection || !(corr->trace_id_low || corr->trace_id_high)) return;
  // Decimal low 64 bits matches the span's trace_id field; 32-hex only when asked for (dd-trace-go rule).
  o.lit(",\"dd.trace_id\":\"");
  if (config_.dd_128bit_trace_id_logging && corr->trace_id_high) {
    o.hex16(corr->trace_id_high);
    o.hex16(corr->trace_id_low);
  } else {
    o.decimal(corr->trace_id_low);
  }
  o.lit("\",\"dd.span_id\":\"");
  o.decimal(corr->span_id);
  o.put('"');
  o.put(dd_suffix_);
}

void Logger::correlation_into(std::string& out, const LogCorrelation* corr) const {
  detail::append_at_cursor(out, correlation_bound(), [&](detail::CharCursor& o) { correlation_to(o, corr); });
}

void Logger::format_into(std::string& out, LogLevel level, std::string_view message,
                         std::initializer_list<Field> fields, const LogCorrelation* corr,
                         std::int64_t unix_ns) const {
  head_into(out, unix_ns, logstash_);
  out += ",\"level\":\"";
  out += level_name(level);
  out += "\",\"message\":";
  json_string_into(out, message);
  if (!config_.prefix.empty()) field_into(out, Field("prefix", config_.prefix));
  for (const Field& f : fields) field_into(out, f);
  correlation_into(out, corr);
  out += "}\n";
}

std::string Logger::format_line(LogLevel level, std::string_view message, std::initializer_list<Field> fields,
                                const LogCorrelation* corr, std::int64_t unix_ns) const {
  std::string out;
  out.reserve(256);
  format_into(out, level, message, fields, corr, unix_ns);
  return out;
}

template <class F>
void Logger::append_with(unsigned lane, F&& fmt) {
  Lane& l = *lanes_[lane % lanes_.size()];
  bool wake = false;
  {
    std::lock_guard g(l.m);  // contended only by the writer's buffer swap
    const std::size_t before = l.buf.used;
    fmt(l.buf);
    if (l.buf.used > config_.max_buffered_bytes) {
      l.buf.truncate(before);
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    wake = before < config_.flush_bytes && l.buf.used >= config_.flush_bytes;
  }
  if (wake && !wake_flag_.exchange(true, std::memory_order_relaxed)) wake_cv_.notify_one();
}

void Logger::log(unsigned lane, LogLevel level, std::string_view message, std::initializer_list<Field> fields,
                 const LogCorrelation* corr) {
  if (!enabled(level)) return;
  const std::int64_t now = now_unix_ns();
  thread_local std::string line;  // rare lines: formatted with appends, then copied into the lane
  line.clear();
  format_into(line, level, message, fields, corr, now);
  append_with(lane, [&](detail::ByteBuffer& out) { out.append(line); });
}

void Logger::access(unsigned lane, const AccessLogEntry& e, const LogCorrelation* corr) {
  if (!config_.access_log || !enabled(LogLevel::info)) return;
  const std::int64_t now = e.unix_ns ? e.unix_ns : now_unix_ns();
  // Same line as format_line(info, "<method> <path> <status>", {fields...}), written in place at a
  // cursor: one bound for the whole line (escaping writes at most 6 bytes per input byte).
  const std::size_t strings = e.method.size() + 2 * e.path.size() + e.route.size() + e.user_agent.size() +
                              e.client_ip.size() + config_.prefix.size();
  const std::size_t bound = kHeadBound + 400 + 6 * strings + correlation_bound();
  append_with(lane, [&](detail::ByteBuffer& out) {
    out.append(bound, [&](detail::CharCursor& o) {
      head_to(o, now, logstash_);
      // The method is an HTTP token (the parser rejects anything else): nothing in it needs escaping.
      o.lit(",\"level\":\"INFO\",\"message\":\"");
      o.put(e.method);
      o.put(' ');
      o.json(e.path);
      o.put(' ');
      o.decimal(e.status);
      o.put('"');
      if (!config_.prefix.empty()) {
        o.lit(",\"prefix\":");
        o.json_string(config_.prefix);
      }
      // Datadog standard attribute names, so the log pipeline maps them without custom remappers.
      o.lit(",\"http.method\":\"");
      o.put(e.method);
      o.put('"');
      o.lit(",\"http.url\":");
      o.json_string(e.path);
      o.lit(",\"http.route\":");
      o.json_string(e.route);
      o.lit(",\"http.status_code\":");
      o.decimal(e.status);
      o.lit(",\"http.useragent\":");
      o.json_string(e.user_agent);
      o.lit(",\"network.client.ip\":");
      o.json_string(e.client_ip);
      o.lit(",\"network.bytes_written\":");
      o.decimal(static_cast<std::int64_t>(e.bytes));
      o.lit(",\"duration\":");
      o.decimal(static_cast<std::int64_t>(e.duration_ns));
      correlation_to(o, corr);
      o.lit("}\n");
    });
  });
}

void Logger::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(config_.fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout closed: nothing sensible to do
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Logger::drain() {
  std::lock_guard w(write_m_);  // keeps lines of concurrent flush() calls in order
  // Double buffering: the lane gets back last round's emptied buffer (capacity kept), so neither side
  // allocates in steady state and the lane lock is held for a swap only.
  for (auto& l : lanes_) {
    std::lock_guard g(l->m);
    std::swap(l->buf, l->spare);
  }
  for (auto& l : lanes_) {
    if (!l->spare.empty()) write_all(l->spare.view());
    l->spare.clear();
  }
}

void Logger::flush() { drain(); }

void Logger::writer() {
  pthread_setname_np(pthread_self(), "gw-log-writer");
  std::unique_lock lk(wake_m_);
  while (!stop_) {
    wake_cv_.wait_for(lk, config_.flush_interval, [&] { return stop_ || wake_flag_.load(); });
    wake_flag_.store(false, std::memory_order_relaxed);
    lk.unlock();
    drain();
    lk.lock();
  }
}

}  // namespace gw::telemetry
