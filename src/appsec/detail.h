// Private to the appsec module: the pieces the WAF is built from. Pure functions of strings, tested
// one by one (tests/unit/appsec) and fuzzed (fuzz/fuzz_appsec.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::appsec::detail {

// ---- transformers (docs/datadog-appsec.md section 4) ----------------------------------------------------

enum class Transformer : std::uint8_t {
  lowercase,
  remove_nulls,
  compress_whitespace,
  normalize_path,
  normalize_path_win,
  url_decode,
  url_decode_iis,
  html_entity_decode,
  js_decode,
  css_decode,
  base64_decode,
  base64url_decode,
  base64_encode,
  shell_unescape,
  remove_comments,
  unicode_normalize,
  url_basename,
  url_path,
  url_querystring,
};

// Canonical snake_case names and libddwaf's legacy camelCase aliases; nullopt for anything else
// (keys_only / values_only are not transformers: the rule compiler handles them).
std::optional<Transformer> transformer_named(std::string_view name);
// Applies `t` to `value` in place. Linear time, never grows the value by more than a constant factor.
void transform(Transformer t, std::string& value);
// False only when `t` certainly leaves `value` as it is (no NUL for remove_nulls, no '%' or '+' for a
// URL decode, ...): most strings of benign traffic then skip the copy and the transformer.
bool may_change(Transformer t, std::string_view value);
// The same test for a whole chain, in one pass over the string: the traits a string has (traits_of),
// and the traits that would make each transformer of a chain act (chain_triggers).
using TextTraits = std::uint32_t;
TextTraits traits_of(std::string_view value);
TextTraits triggers(Transformer t);

// ---- injection detectors (is_sqli / is_xss) ---------------------------------------------------------------

// A libinjection-style SQL injection test: tokenizes `value` as SQL in the contexts an injection can
// start in (as is, after a single quote, after a double quote) and matches the token fingerprint
// against shapes of injections. Returns the fingerprint (e.g. "s&1c") when it looks like SQLi.
std::optional<std::string> sqli_fingerprint(std::string_view value);
// A libinjection-style XSS test: HTML tokenizing of `value` looking for executable markup (script
// tags, on* handlers, javascript: URLs, dangerous tags/attributes) in every context it can land in.
bool looks_like_xss(std::string_view value);

// ---- obfuscation (docs/datadog-appsec.md section 6) ------------------------------------------------------

// Datadog's default obfuscation regexes (libddwaf / nginx-datadog defaults), RE2 syntax.
std::string_view default_key_regex();
std::string_view default_value_regex();

}  // namespace gw::appsec::detail
