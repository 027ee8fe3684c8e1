// DD_APPSEC_* settings (docs/datadog-appsec.md section 1). A setting that is present but unusable stops
// the gateway (LoadError) rather than silently running with a different security posture.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "appsec/appsec.h"

namespace gw::appsec {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void invalid(const char* name, std::string_view value, std::string_view expected) {
  throw LoadError(std::string(name) + ": expected " + std::string(expected) + ", got '" + std::string(value) +
                  "'");
}

// The whole file, or LoadError "<name>: cannot read '<path>': <reason>". POSIX calls so that a
// directory or an unreadable file reports the real errno.
std::string read_file(const char* name, const std::string& path) {
  const auto fail = [&](int err) {
    throw LoadError(std::string(name) + ": cannot read '" + path + "': " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    fail(err);
  }
  std::string out;
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(err);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

Settings Settings::from_env(const EnvFn& env) {
  Settings s;
  // Empty counts as unset for everything but the obfuscation regexes, where empty means "off".
  const auto get = [&](const char* name) -> std::string_view {
    const char* v = env ? env(name) : nullptr;
    return v ? std::string_view(v) : std::string_view();
  };

  const std::string enabled = lower(trim(get("DD_APPSEC_ENABLED")));
  s.enabled = enabled == "true" || enabled == "1";
  if (!s.enabled) return s;  // nothing else matters (and a stale value cannot stop the gateway)
  s.rules_path = std::string(get("DD_APPSEC_RULES"));

  if (const std::string_view v = trim(get("DD_APPSEC_WAF_TIMEOUT")); !v.empty()) {
    std::int64_t us = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), us);
    if (ec != std::errc() || end != v.data() + v.size() || us <= 0) {
      invalid("DD_APPSEC_WAF_TIMEOUT", v, "a positive integer (microseconds)");
    }
    s.waf_timeout = std::chrono::microseconds(us);
  }

  for (const auto& [name, slot] : {std::pair{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON", &s.blocked_json},
                                   std::pair{"DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML", &s.blocked_html}}) {
    if (const std::string_view path = get(name); !path.empty()) *slot = read_file(name, std::string(path));
  }

  for (const auto& [name, slot] :
       {std::pair{"DD_APPSEC_OBFUSCATION_PARAMETER_KEY_REGEXP", &s.key_regex},
        std::pair{"DD_APPSEC_OBFUSCATION_PARAMETER_VALUE_REGEXP", &s.value_regex}}) {
    if (const char* v = env ? env(name) : nullptr) *slot = std::string(v);
  }

  if (const std::string_view v = trim(get("DD_APPSEC_TRACE_RATE_LIMIT")); !v.empty()) {
    double rate = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rate);
    // from_chars also takes "inf"/"nan": only a finite, non-negative rate is meaningful.
    if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(rate) || rate < 0) {
      invalid("DD_APPSEC_TRACE_RATE_LIMIT", v, "a non-negative number (traces per second)");
    }
    s.trace_rate_limit = rate;
  }

  s.client_ip_header = lower(trim(get("DD_TRACE_CLIENT_IP_HEADER")));
  return s;
}

std::vector<std::string> unheeded_settings(const std::vector<std::string>& names, bool enabled) {
  static constexpr std::string_view kImplemented[] = {"DD_APPSEC_ENABLED",
                                                      "DD_APPSEC_RULES",
                                                      "DD_APPSEC_WAF_TIMEOUT",
                                                      "DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON",
                                                      "DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML",
                                                      "DD_APPSEC_OBFUSCATION_PARAMETER_KEY_REGEXP",
                                                      "DD_APPSEC_OBFUSCATION_PARAMETER_VALUE_REGEXP",
                                                      "DD_APPSEC_TRACE_RATE_LIMIT"};
  std::vector<std::string> out;
  for (const auto& name : names) {
    const bool appsec = name.starts_with("DD_APPSEC_") || name.starts_with("DD_API_SECURITY_");
    if (!appsec || name == "DD_APPSEC_ENABLED") continue;
    const bool known =
        std::find(std::begin(kImplemented), std::end(kImplemented), name) != std::end(kImplemented);
    if (!known)
      out.push_back(name + " is not implemented by this gateway's WAF and has no effect");
    else if (!enabled)
      out.push_back(name + " is set but DD_APPSEC_ENABLED is not true: the WAF is off");
  }
  return out;
}

}  // namespace gw::appsec
