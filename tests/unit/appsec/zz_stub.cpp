// TEMPORARY (not committed): stand-ins until the helpers' files land.
#include <algorithm>
#include "appsec/appsec.h"
#include "appsec/detail.h"
namespace gw::appsec {
namespace detail {
std::optional<Transformer> transformer_named(std::string_view n) {
  if (n == "lowercase") return Transformer::lowercase;
  if (n == "removeNulls" || n == "remove_nulls") return Transformer::remove_nulls;
  if (n == "urlDecodeUni" || n == "url_decode_iis") return Transformer::url_decode_iis;
  if (n == "normalizePath") return Transformer::normalize_path;
  if (n == "cmdLine") return Transformer::shell_unescape;
  if (n == "removeComments") return Transformer::remove_comments;
  if (n == "unicode_normalize") return Transformer::unicode_normalize;
  return std::nullopt;
}
void transform(Transformer t, std::string& v) {
  if (t == Transformer::lowercase) for (char& c : v) c = (char)std::tolower((unsigned char)c);
}
std::optional<std::string> sqli_fingerprint(std::string_view v) { if (v.find("' or 1=1") != std::string_view::npos) return "s&1"; return std::nullopt; }
bool looks_like_xss(std::string_view v) { return v.find("<script") != std::string_view::npos; }
std::string_view default_key_regex() { return "(?i)pass|secret|token|authorization"; }
std::string_view default_value_regex() { return "(?i)bearer\\s+[a-z0-9._-]+"; }
}
std::string resolve_client_ip(const std::vector<Field>&, std::string_view peer, std::string_view) { return std::string(peer); }
}
