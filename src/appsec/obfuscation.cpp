// Datadog's default obfuscation regexes (libddwaf src/obfuscator.hpp @16a1015, which nginx-datadog uses
// when no regex is configured). Configuration defaults the product must match, not code: events must be
// redacted exactly as a Datadog tracer would redact them.
#include <string_view>

#include "appsec/detail.h"

namespace gw::appsec::detail {

std::string_view default_key_regex() {
  static constexpr std::string_view kKey =
      R"((?i)pass|pw(?:or)?d|secret|(?:api|private|public|access)[_-]?key|token)"
      R"(|consumer[_-]?(?:id|key|secret))"
      R"(|sign(?:ed|ature)|bearer|authorization|jsessionid|phpsessid|asp\.net[_-]sessionid|sid|jwt)";
  return kKey;
}

std::string_view default_value_regex() {
  static constexpr std::string_view kValue =
      R"((?i)(?:p(?:ass)?w(?:or)?d|pass(?:[_-]?phrase)?|secret(?:[_-]?key)?)"
      R"(|(?:(?:api|private|public|access)[_-]?)key(?:[_-]?id)?|(?:(?:auth|access|id|refresh)[_-]?)?token)"
      R"(|consumer[_-]?(?:id|key|secret)|sign(?:ed|ature)?|auth(?:entication|orization)?|jsessionid)"
      R"(|phpsessid|asp\.net(?:[_-]|-)sessionid|sid|jwt)(?:\s*=([^;&]+)|"\s*:\s*("[^"]+"|\d+)))"
      R"(|bearer\s+([a-z0-9\._\-]+)|token\s*:\s*([a-z0-9]{13})|gh[opsu]_([0-9a-zA-Z]{36}))"
      R"(|ey[I-L][\w=-]+\.(ey[I-L][\w=-]+(?:\.[\w.+\/=-]+)?))"
      R"(|[\-]{5}BEGIN[a-z\s]+PRIVATE\sKEY[\-]{5}([^\-]+)[\-]{5}END[a-z\s]+PRIVATE\sKEY)"
      R"(|ssh-rsa\s*([a-z0-9\/\.+]{100,}))";
  return kValue;
}

}  // namespace gw::appsec::detail
