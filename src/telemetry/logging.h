// JSON-lines logging on stdout (one object a line, `timestamp` RFC 3339 UTC with ms, `level`,
// `message`, fields), per-request access log, and Datadog trace correlation (DD_LOGS_INJECTION).
// Workers append formatted lines to their own lane; a writer thread does the write(2) calls, so a slow
// stdout reader costs dropped lines (counted), not request latency.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {

enum class LogLevel : std::uint8_t { debug, info, warning, error, critical };
std::optional<LogLevel> parse_log_level(std::string_view s);  // KrakenD names, case-insensitive

// `telemetry/logging` (KrakenD) + DD_* env. syslog is not supported (logs go to stdout or nowhere).
struct LoggingConfig {
  LogLevel level = LogLevel::info;
  std::string prefix;              // `prefix`: emitted as a "prefix" field (a text prefix would break JSON)
  bool stdout_enabled = true;      // `stdout`
  std::string format = "default";  // default|logstash|custom: all JSON; logstash adds @timestamp/@version
  bool access_log = true;
  // DD_LOGS_INJECTION=true: lines written inside a request carry dd.* ids.
  bool dd_logs_injection = false;
  bool dd_128bit_trace_id_logging = false;  // DD_TRACE_128_BIT_TRACEID_LOGGING_ENABLED
  std::string dd_service, dd_env, dd_version;
  int fd = 1;
  std::size_t max_buffered_bytes = 4 << 20;  // per lane; beyond that lines are dropped (counted)
  std::chrono::milliseconds flush_interval{100};
  // A lane holding this much wakes the writer early, so the buffers stay far below the multi-megabyte
  // size where streaming lines into them got slow (~0.7 us per request at 40k lines/s), while each
  // wake-up (two context switches on the worker's core) still carries ~500 lines: at 200 connections,
  // 256 KiB measured 1-2% more req/s than 64 KiB and 16 KiB 1% less (bench/telemetry.sh).
  std::size_t flush_bytes = 256 << 10;
  void apply_env(const EnvFn& env = real_env);
};

// The ids of the span active when a line is written.
struct LogCorrelation {
  std::uint64_t trace_id_low = 0, trace_id_high = 0, span_id = 0;
};

struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

struct AccessLogEntry {
  std::string_view method;  // an HTTP token, as the request parser accepted it: written unescaped
  std::string_view path, route, client_ip, user_agent;
  int status = 0;
  std::int64_t duration_ns = 0;
  std::uint64_t bytes = 0;   // response body bytes written
  std::int64_t unix_ns = 0;  // when the request ended (the line's timestamp); 0: read the clock
};

class Logger {
 public:
  Logger(LoggingConfig config, unsigned lanes);
  ~Logger();  // flushes
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(LogLevel l) const { return config_.stdout_enabled && l >= config_.level; }
  // Thread-safe; pass the worker index as lane. corr = nullptr outside a request.
  void log(unsigned lane, LogLevel level, std::string_view message, std::initializer_list<Field> fields = {},
           const LogCorrelation* corr = nullptr);
  void access(unsigned lane, const AccessLogEntry& e, const LogCorrelation* corr = nullptr);
  // Writes everything queued so far (blocking); for shutdown and tests.
  void flush();
  std::uint64_t dropped_lines() const { return dropped_.load(std::memory_order_relaxed); }
  const LoggingConfig& config() const { return config_; }

  // Formatting only, for tests and for callers that want the line without queueing it.
  std::string format_line(LogLevel level, std::string_view message, std::initializer_list<Field> fields,
                          const LogCorrelation* corr, std::int64_t unix_ns) const;

 private:
  struct alignas(64) Lane {
    std::mutex m;
    detail::ByteBuffer buf;    // workers format lines straight into it (under m)
    detail::ByteBuffer spare;  // the writer's half of the double buffer (under write_m_)
  };
  // Formats one line into `out` (appending); the single formatter behind format_line/log/access.
  void format_into(std::string& out, LogLevel level, std::string_view message,
                   std::initializer_list<Field> fields, const LogCorrelation* corr,
                   std::int64_t unix_ns) const;
  void correlation_into(std::string& out, const LogCorrelation* corr) const;
  void correlation_to(detail::CharCursor& out, const LogCorrelation* corr) const;
  std::size_t correlation_bound() const;
  // Locks the lane, lets `fmt(buf)` append one line (a ByteBuffer), drops it (counted) past
  // max_buffered_bytes.
  template <class F>
  void append_with(unsigned lane, F&& fmt);
  void writer();
  void write_all(std::string_view data);
  void drain();

  LoggingConfig config_;
  bool logstash_ = false;
  std::string dd_suffix_;  // ,"dd.service":..,"dd.env":..,"dd.version":.. (constant, escaped once)
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex write_m_;
  std::mutex wake_m_;
  std::condition_variable wake_cv_;
  bool stop_ = false;
  std::atomic<bool> wake_flag_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

std::string rfc3339_ms(std::int64_t unix_ns);

}  // namespace gw::telemetry
