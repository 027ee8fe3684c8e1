// Span creation, sampling decision and the tags the Datadog backend expects on a local root
// (docs/datadog-compat.md §4a, checklist 15).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <type_traits>

#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {

std::int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t unix_ns_at(std::chrono::steady_clock::time_point t) {
  // Offset between the two clocks, refreshed once a second so wall-clock steps (NTP) show up soon. It
  // holds for any reading, so readings older than the refresh (requests started earlier) use it too.
  thread_local std::chrono::steady_clock::time_point refreshed{};
  thread_local std::int64_t offset = 0;
  if (t - refreshed > std::chrono::seconds(1)) {
    refreshed = std::chrono::steady_clock::now();
    offset = now_unix_ns() - refreshed.time_since_epoch() / std::chrono::nanoseconds(1);
  }
  return t.time_since_epoch() / std::chrono::nanoseconds(1) + offset;
}

namespace {
// xoshiro256** per thread, seeded once from std::random_device: a few ns per id, no lock, and
// unpredictable enough for trace/span ids (which are not secrets).
struct Rng {
  std::uint64_t s[4];
  Rng() {
    std::random_device rd;
    std::uint64_t x = (std::uint64_t(rd()) << 32) ^ rd() ^
                      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^ std::uint64_t(now_unix_ns());
    for (auto& w : s) {  // splitmix64 expansion of the seed
      x += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t operator()() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

Rng& rng() {
  thread_local Rng gen;
  return gen;
}

// Span lists of finished traces, cleared but keeping their spans and buffers: the next traces on this
// thread reuse them, so in steady state a trace allocates nothing and writes into memory that is
// still in cache.
std::vector<SpanList>& list_pool() {
  thread_local std::vector<SpanList> pool;
  return pool;
}
constexpr std::size_t kMaxPooledLists = 256;

SpanList take_list() {
  auto& pool = list_pool();
  if (pool.empty()) return SpanList{};
  SpanList list = std::move(pool.back());
  pool.pop_back();
  return list;
}

void recycle(SpanList& list) {
  auto& pool = list_pool();
  if (pool.size() >= kMaxPooledLists) return;
  list.clear();
  pool.push_back(std::move(list));
}

bool truthy(const char* v) {
  if (!v) return false;
  std::string s(v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on";
}

std::string uuid4() {
  std::uint64_t a = rng()(), b = rng()();
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  std::string h = hex16(a) + hex16(b);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) + '-' +
         h.substr(20);
}

}  // namespace

namespace {
// The msgpack string at p (as TagList writes them: fixstr, str8, str16 or str32); advances p.
std::string_view read_str(const char*& p) {
  const auto b = static_cast<unsigned char>(*p++);
  std::size_t n = 0;
  if ((b & 0xe0) == 0xa0) {
    n = b & 0x1f;
  } else {
    const int bytes = b == 0xd9 ? 1 : b == 0xda ? 2 : 4;
    for (int i = 0; i < bytes; ++i) n = (n << 8) | static_cast<unsigned char>(*p++);
  }
  const std::string_view s(p, n);
  p += n;
  return s;
}

double read_f64(const char*& p) {
  std::uint64_t bits = 0;
  for (int i = 1; i <= 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(p[i]);
  p += 9;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
}  // namespace

template <class V>
typename TagList<V>::Item TagList<V>::iterator::operator*() const {
  const char* p = p_;
  const std::string_view key = read_str(p);
  if constexpr (std::is_same_v<V, double>)
    return {key, read_f64(p)};
  else
    return {key, read_str(p)};
}

template <class V>
typename TagList<V>::iterator& TagList<V>::iterator::operator++() {
  read_str(p_);
  if constexpr (std::is_same_v<V, double>)
    read_f64(p_);
  else
    read_str(p_);
  return *this;
}

template class TagList<std::string_view>;
template class TagList<double>;

std::uint64_t random_id() {
  for (;;) {
    // 63 bits: safe for consumers that still treat ids as signed 64-bit.
    std::uint64_t v = rng()() >> 1;
    if (v) return v;
  }
}

TracerConfig TracerConfig::from_env(const EnvFn& env) {
  TracerConfig c;
  c.enabled = truthy(env("DD_TRACE_ENABLED"));
  if (const char* v = env("DD_SERVICE"); v && *v) c.service = v;
  if (const char* v = env("DD_ENV")) c.env = v;
  if (const char* v = env("DD_VERSION")) c.version = v;
  if (const char* v = env("DD_TRACE_SAMPLE_RATE"); v && *v) {
    char* end = nullptr;
    double r = std::strtod(v, &end);
    if (end && *end == '\0' && r >= 0 && r <= 1) c.sample_rate = r;
  }
  if (const char* v = env("DD_TRACE_RATE_LIMIT"); v && *v) {
    char* end = nullptr;
    double r = std::strtod(v, &end);
    if (end && *end == '\0' && r >= 0) c.rate_limit = r;
  }
  if (const char* v = env("DD_TAGS"); v && *v) {
    // "k1:v1,k2:v2" or space separated.
    std::string s(v);
    std::replace(s.begin(), s.end(), ' ', ',');
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t end = s.find(',', pos);
      std::string item = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      if (auto colon = item.find(':'); colon != std::string::npos && colon > 0)
        c.tags.emplace_back(item.substr(0, colon), item.substr(colon + 1));
      if (end == std::string::npos) break;
      pos = end + 1;
    }
  }
  c.propagation = PropagationConfig::from_env(env);
  return c;
}

void SharedTags::add_meta(std::string key, std::string value) {
  detail::MsgpackWriter w(v04_meta);
  w.str(key);
  w.str(value);
  meta.emplace_back(std::move(key), std::move(value));
}

void SharedTags::add_metric(std::string key, double value) {
  detail::MsgpackWriter w(v04_metrics);
  w.str(key);
  w.f64(value);
  metrics.emplace_back(std::move(key), value);
}

Tracer::Tracer(TracerConfig config, std::shared_ptr<SpanExporter> exporter)
    : config_(std::move(config)),
      exporter_(std::move(exporter)),
      limiter_(std::make_unique<RateLimiter>(config_.rate_limit)) {
  shared_.add_meta("language", "cpp");
  shared_.add_meta("runtime-id", uuid4());
  if (!config_.env.empty()) shared_.add_meta("env", config_.env);
  if (!config_.version.empty()) shared_.add_meta("version", config_.version);
  for (const auto& [k, v] : config_.tags) shared_.add_meta(k, v);
  // The gateway does not fork after start: the pid is read once.
  shared_.add_metric("process_id", static_cast<double>(::getpid()));
}

RateLimiter::RateLimiter(double per_second, Clock::time_point now)
    : per_second_(per_second), tokens_(per_second), refilled_(now), period_start_(now) {}

RateLimiter::Result RateLimiter::allow(Clock::time_point now) {
  std::lock_guard g(m_);
  // Close the one-second periods that ended (at most 9 kept: a 10 s window with the current one).
  while (now - period_start_ >= std::chrono::seconds(1)) {
    previous_rates_.push_front(requested_ ? double(allowed_) / double(requested_) : 1.0);
    if (previous_rates_.size() > 9) previous_rates_.pop_back();
    requested_ = allowed_ = 0;
    period_start_ += std::chrono::seconds(1);
    if (now - period_start_ >= std::chrono::seconds(10)) period_start_ = now;  // long idle: skip ahead
  }
  tokens_ =
      std::min(per_second_, tokens_ + per_second_ * std::chrono::duration<double>(now - refilled_).count());
  refilled_ = now;
  ++requested_;
  const bool allowed = tokens_ >= 1;
  if (allowed) {
    tokens_ -= 1;
    ++allowed_;
  }
  double sum = double(allowed_) / double(requested_);
  for (double r : previous_rates_) sum += r;
  return {allowed, sum / double(previous_rates_.size() + 1)};
}

Span& SpanList::add() {
  if (size_ == items_.size()) return items_.emplace_back(), items_[size_++];
  Span& s = items_[size_++];
  s.trace_id_low = s.trace_id_high = s.span_id = s.parent_id = 0;
  s.service = s.name = s.type = {};
  s.resource.clear();
  s.start_ns = s.duration_ns = 0;
  s.error = 0;
  s.meta.clear();
  s.metrics.clear();
  s.shared = nullptr;
  return s;
}

Trace Tracer::start_trace(TraceContext parent, std::string_view name, std::string_view resource,
                          std::string_view type, std::int64_t start_ns) const {
  Trace t;
  start_trace_into(t, std::move(parent), name, resource, type, start_ns);
  return t;
}

void Tracer::start_trace_into(Trace& t, TraceContext parent_context, std::string_view name,
                              std::string_view resource, std::string_view type, std::int64_t start_ns) const {
  t.inherited = std::move(parent_context);
  const TraceContext& parent = t.inherited;
  t.spans = take_list();
  Span& s = t.spans.add();
  if (parent.valid()) {
    s.trace_id_high = parent.trace_id_high;
    s.trace_id_low = parent.trace_id_low;
    s.parent_id = parent.parent_id;
  } else {
    // 128-bit id like dd-trace-cpp: high 32 bits of the upper half are the Unix seconds.
    s.trace_id_high = std::uint64_t(start_ns / 1000000000) << 32;
    s.trace_id_low = random_id();
  }
  s.span_id = random_id();
  s.name = name;
  s.resource.assign(resource);
  s.type = type;
  s.service = config_.service;
  s.start_ns = start_ns;

  if (parent.sampling_priority) {
    t.sampling_priority = *parent.sampling_priority;  // upstream decided; keep its _dd.p.dm
  } else {
    double rate = config_.sample_rate;
    t.mechanism = 3;  // rule
    if (rate < 0) {
      rate = exporter_ ? exporter_->agent_sample_rate() : -1;
      t.mechanism = rate < 0 ? 0 : 1;  // default / agent rate
    }
    t.rate = rate;
    // Datadog's deterministic sampler: keep when id * knuth_factor falls under rate * 2^64.
    bool keep = rate < 0 || static_cast<long double>(s.trace_id_low * 1111111111111111111ull) <
                                static_cast<long double>(rate) * 18446744073709551616.0L;
    if (keep && t.mechanism == 3) {  // a rule kept it: the limiter has the last word (USER_DROP past it)
      const RateLimiter::Result limit = limiter_->allow(RateLimiter::Clock::now());
      keep = limit.allowed;
      t.limit_rate = limit.effective_rate;
    }
    t.sampling_priority = t.mechanism == 3 ? (keep ? 2 : -1) : (keep ? 1 : 0);
    if (keep) {
      // Kept as an int, not a tag string: the common case (no upstream _dd.p.* tags) then allocates
      // nothing. An upstream _dd.p.dm without a priority is overwritten in place, as before.
      auto dm = std::find_if(t.inherited.propagation_tags.begin(), t.inherited.propagation_tags.end(),
                             [](const auto& kv) { return kv.first == "_dd.p.dm"; });
      if (dm == t.inherited.propagation_tags.end())
        t.local_dm = t.mechanism;
      else
        dm->second = "-" + std::to_string(t.mechanism);
    }
  }
}

std::size_t Tracer::start_span(Trace& t, std::size_t parent, std::string_view name, std::string_view resource,
                               std::string_view type, std::int64_t start_ns) const {
  const std::uint64_t parent_id = t.spans[parent].span_id;
  Span& s = t.spans.add();  // may move the other spans: read them first
  s.trace_id_high = t.spans[0].trace_id_high;
  s.trace_id_low = t.spans[0].trace_id_low;
  s.parent_id = parent_id;
  s.span_id = random_id();
  s.name = name;
  s.resource.assign(resource);
  s.type = type;
  s.service = config_.service;
  s.start_ns = start_ns;
  return t.spans.size() - 1;
}

TraceContext Tracer::context_for(const Trace& t, std::size_t span) const {
  TraceContext c = t.inherited;
  c.trace_id_high = t.spans[0].trace_id_high;
  c.trace_id_low = t.spans[0].trace_id_low;
  c.parent_id = t.spans[span].span_id;
  c.sampling_priority = t.sampling_priority;
  c.datadog_parent_id.clear();
  if (t.local_dm >= 0) c.propagation_tags.emplace_back("_dd.p.dm", "-" + std::to_string(t.local_dm));
  return c;
}

void Tracer::finish(Trace&& t, unsigned lane) const {
  if (!exporter_ || t.spans.empty()) return;
  for (Span& s : t.spans) {
    s.shared = &shared_;
    if (!t.inherited.origin.empty()) s.set_meta("_dd.origin", t.inherited.origin);
  }
  Span& root = t.spans[0];
  root.set_metric("_sampling_priority_v1", t.sampling_priority);
  if (t.mechanism == 1 && t.rate >= 0) root.set_metric("_dd.agent_psr", t.rate);
  if (t.mechanism == 3 && t.rate >= 0) root.set_metric("_dd.rule_psr", t.rate);
  if (t.limit_rate >= 0) root.set_metric("_dd.limit_psr", t.limit_rate);
  for (const auto& [k, v] : t.inherited.propagation_tags) root.set_meta(k, v);
  if (t.local_dm >= 0) {
    char dm[12] = {'-'};
    root.set_meta("_dd.p.dm",
                  std::string_view(dm, std::to_chars(dm + 1, dm + sizeof dm, t.local_dm).ptr - dm));
  }
  if (root.trace_id_high) {
    char tid[16];
    detail::hex16_to(tid, root.trace_id_high);
    root.set_meta("_dd.p.tid", std::string_view(tid, sizeof tid));
  }
  if (!t.inherited.datadog_parent_id.empty()) root.set_meta("_dd.parent_id", t.inherited.datadog_parent_id);
  exporter_->submit(t.spans, lane);
  recycle(t.spans);
}

}  // namespace gw::telemetry
