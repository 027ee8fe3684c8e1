// Shard storage shared by metrics.cpp (recording) and metrics_render.cpp (scrape). Not public API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "telemetry/metrics.h"

namespace gw::telemetry::detail {

// Single writer per shard: a relaxed load + store is enough (no lock prefix); readers see torn-free
// values because each word is atomic.
inline void bump(std::atomic<std::uint64_t>& a, std::uint64_t n = 1) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void bump(std::atomic<double>& a, double v) {
  a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

template <std::size_t N>
struct HistoN {
  std::atomic<std::uint64_t> buckets[N + 1] = {};  // non-cumulative; [N] is +Inf
  std::atomic<double> sum{0};
  void observe(double v, const double* bounds) {
    // `le` is inclusive: the bucket is the first bound >= v. A scan from the smallest bound: the
    // values a gateway records are mostly under the first bounds (10 ms, 128 B), so it usually ends
    // at the first compare, where a binary search always takes five hard-to-predict branches.
    std::size_t i = 0;
    while (i < N && bounds[i] < v) ++i;
    bump(buckets[i]);
    bump(sum, v);
  }
};
using TimeHisto = HistoN<kTimeBuckets.size()>;
using SizeHisto = HistoN<kSizeBuckets.size()>;

struct ServerCell {
  TimeHisto duration;
  SizeHisto size;
};

struct ClientCell {
  TimeHisto duration;
  SizeHisto response_size;
  TimeHisto dns, get_conn, tls;
  std::atomic<std::uint64_t> started{0}, failed{0}, canceled{0}, timedout{0};
  std::atomic<std::uint64_t> request_size{0}, request_size_n{0}, no_content_length{0};
};

struct ReadCell {
  SizeHisto size;
  TimeHisto time;
};

// Keyed cells filled on first use of a key (e.g. a new status code). The owner thread appends; readers
// walk with acquire loads. Blocks are only allocated the first time a block fills up, and keys are
// bounded (status codes, bool combinations), so steady state never allocates.
template <class V, int PerBlock = 4>
struct SlotList {
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  struct Block {
    std::atomic<std::uint32_t> keys[PerBlock];
    V values[PerBlock];
    std::atomic<Block*> next{nullptr};
    Block() {
      for (auto& k : keys) k.store(kEmpty, std::memory_order_relaxed);
    }
  };
  Block head;

  SlotList() = default;
  SlotList(const SlotList&) = delete;
  ~SlotList() {
    Block* b = head.next.load(std::memory_order_relaxed);
    while (b) {
      Block* n = b->next.load(std::memory_order_relaxed);
      delete b;
      b = n;
    }
  }

  V& get(std::uint32_t key) {
    Block* b = &head;
    for (;;) {
      for (int i = 0; i < PerBlock; ++i) {
        std::uint32_t k = b->keys[i].load(std::memory_order_relaxed);
        if (k == key) return b->values[i];
        if (k == kEmpty) {
          b->keys[i].store(key, std::memory_order_release);
          return b->values[i];
        }
      }
      Block* n = b->next.load(std::memory_order_relaxed);
      if (!n) {
        n = new Block();
        b->next.store(n, std::memory_order_release);
      }
      b = n;
    }
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Block* b = &head; b; b = b->next.load(std::memory_order_acquire)) {
      for (int i = 0; i < PerBlock; ++i) {
        std::uint32_t k = b->keys[i].load(std::memory_order_acquire);
        if (k == kEmpty) return;
        f(k, b->values[i]);
      }
    }
  }
};

struct BackendShard {
  SlotList<TimeHisto> stage;       // key: error|canceled<<1|complete<<2
  SlotList<ClientCell, 2> client;  // key: status code
  ReadCell read;
};

struct alignas(64) RouteShard {
  SlotList<ServerCell> server;  // key: method index << 16 | status
  SlotList<TimeHisto> proxy;    // key: error|canceled<<1|complete<<2
  std::vector<std::unique_ptr<BackendShard>> backends;
};

// Bounded method label: the standard set, everything else "_OTHER".
inline constexpr const char* kMethods[] = {"CONNECT", "DELETE", "GET", "HEAD",  "OPTIONS",
                                           "PATCH",   "POST",   "PUT", "TRACE", "_OTHER"};
std::uint32_t method_index(std::string_view method);
std::string status_route(int status);  // "404 Not Found"

// process_* and go_* families, keyed by family name -> rendered text.
void render_process_families(std::map<std::string, std::string>& out, bool process, bool go,
                             unsigned workers);
void render_gauge(std::string& out, const std::string& name, const std::string& help, const std::string& type,
                  double value);

}  // namespace gw::telemetry::detail
