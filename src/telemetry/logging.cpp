#include "telemetry/logging.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <ctime>

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

std::string rfc3339_ms(std::int64_t unix_ns) {
  // Formatting the date part is the expensive bit; each thread caches it for the current second.
  thread_local std::int64_t cached_sec = -1;
  thread_local char cached[24];
  const std::int64_t sec = unix_ns / 1000000000, ms = (unix_ns / 1000000) % 1000;
  if (sec != cached_sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  char out[32];
  std::snprintf(out, sizeof out, "%s.%03dZ", cached, static_cast<int>(ms));
  return out;
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
}  // namespace

Logger::Logger(LoggingConfig config, unsigned lanes) : config_(std::move(config)) {
  for (unsigned i = 0; i < std::max(1u, lanes); ++i) lanes_.push_back(std::make_unique<Lane>());
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

std::string Logger::format_line(LogLevel level, std::string_view message, std::initializer_list<Field> fields,
                                const LogCorrelation* corr, std::int64_t unix_ns) const {
  std::string out;
  out.reserve(256);
  const std::string ts = rfc3339_ms(unix_ns);
  out += "{\"timestamp\":\"" + ts + '"';
  if (config_.format == "logstash") out += ",\"@timestamp\":\"" + ts + "\",\"@version\":\"1\"";
  out += ",\"level\":\"";
  out += level_name(level);
  out += "\",\"message\":";
  json_string_into(out, message);
  if (!config_.prefix.empty()) field_into(out, Field("prefix", config_.prefix));
  for (const Field& f : fields) field_into(out, f);
  if (corr && config_.dd_logs_injection && (corr->trace_id_low || corr->trace_id_high)) {
    // Decimal low 64 bits matches the span's trace_id field; 32-hex only when asked for (dd-trace-go rule).
    std::string tid = config_.dd_128bit_trace_id_logging && corr->trace_id_high
                          ? hex16(corr->trace_id_high) + hex16(corr->trace_id_low)
                          : std::to_string(corr->trace_id_low);
    out += ",\"dd.trace_id\":\"" + tid + "\",\"dd.span_id\":\"" + std::to_string(corr->span_id) + '"';
    field_into(out, Field("dd.service", config_.dd_service));
    field_into(out, Field("dd.env", config_.dd_env));
    field_into(out, Field("dd.version", config_.dd_version));
  }
  out += "}\n";
  return out;
}

void Logger::log(unsigned lane, LogLevel level, std::string_view message, std::initializer_list<Field> fields,
                 const LogCorrelation* corr) {
  if (!enabled(level)) return;
  append(lane, format_line(level, message, fields, corr, now_unix_ns()));
}

void Logger::access(unsigned lane, const AccessLogEntry& e, const LogCorrelation* corr) {
  if (!config_.access_log || !enabled(LogLevel::info)) return;
  std::string msg;
  msg.reserve(e.method.size() + e.path.size() + 6);
  msg.append(e.method).append(" ").append(e.path).append(" ").append(std::to_string(e.status));
  // Datadog standard attribute names, so the log pipeline maps them without custom remappers.
  append(lane, format_line(LogLevel::info, msg,
                           {{"http.method", e.method},
                            {"http.url", e.path},
                            {"http.route", e.route},
                            {"http.status_code", e.status},
                            {"http.useragent", e.user_agent},
                            {"network.client.ip", e.client_ip},
                            {"network.bytes_written", e.bytes},
                            {"duration", e.duration_ns}},
                           corr, now_unix_ns()));
}

void Logger::append(unsigned lane, std::string&& line) {
  Lane& l = *lanes_[lane % lanes_.size()];
  std::lock_guard g(l.m);
  if (l.buf.size() + line.size() > config_.max_buffered_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  l.buf += line;
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
  std::string out;
  for (auto& l : lanes_) {
    std::string taken;
    {
      std::lock_guard g(l->m);
      taken.swap(l->buf);
      l->buf.reserve(taken.capacity());  // keep the lane's capacity; steady state appends do not allocate
    }
    out += taken;
  }
  write_all(out);
}

void Logger::flush() { drain(); }

void Logger::writer() {
  std::unique_lock lk(wake_m_);
  while (!stop_) {
    wake_cv_.wait_for(lk, config_.flush_interval, [&] { return stop_; });
    lk.unlock();
    drain();
    lk.lock();
  }
}

}  // namespace gw::telemetry
