// The response to a blocked request (docs/datadog-appsec.md section 9): Datadog's default pages, or the
// operator's templates, negotiated on Accept the way nginx-datadog does it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "appsec/appsec.h"
#include "appsec/text_util.h"

namespace gw::appsec {
namespace {

namespace text = detail::text;

using namespace std::string_view_literals;

// Wire-compatible with Datadog's tracers: clients and system tests compare these bytes.
constexpr std::string_view kDefaultJson =
    R"({"errors":[{"title":"You've been blocked","detail":"Sorry, you cannot access this page. )"
    R"(Please contact the customer service team. Security provided by Datadog."}]})";

constexpr std::string_view kDefaultHtml =
    R"(<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta name="viewport" )"
    R"(content="width=device-width,initial-scale=1"><title>You've been blocked</title><style>)"
    R"(a,body,div,html,span{margin:0;padding:0;border:0;font-size:100%;font:inherit;vertical-align:baseline})"
    R"(body{background:-webkit-radial-gradient(26% 19%,circle,#fff,#f4f7f9);)"
    R"(background:radial-gradient(circle at 26% 19%,#fff,#f4f7f9);display:-webkit-box;)"
    R"(display:-ms-flexbox;display:flex;-webkit-box-pack:center;-ms-flex-pack:center;)"
    R"(justify-content:center;-webkit-box-align:center;-ms-flex-align:center;align-items:center;)"
    R"(-ms-flex-line-pack:center;align-content:center;width:100%;min-height:100vh;line-height:1;)"
    R"(flex-direction:column}p{display:block}main{text-align:center;flex:1;display:-webkit-box;)"
    R"(display:-ms-flexbox;display:flex;-webkit-box-pack:center;-ms-flex-pack:center;)"
    R"(justify-content:center;-webkit-box-align:center;-ms-flex-align:center;align-items:center;)"
    R"(-ms-flex-line-pack:center;align-content:center;flex-direction:column}p{font-size:18px;)"
    R"(line-height:normal;color:#646464;font-family:sans-serif;font-weight:400}a{color:#4842b7})"
    R"(footer{width:100%;text-align:center}footer p{font-size:16px}</style></head><body><main>)"
    R"(<p>Sorry, you cannot access this page. Please contact the customer service team.</p></main>)"
    R"(<footer><p>Security provided by <a )"
    R"(href="https://www.datadoghq.com/product/security-platform/application-security-monitoring/" )"
    R"(target="_blank">Datadog</a></p></footer></body></html>)";

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kHtmlType = "text/html;charset=utf-8";

// A qvalue in thousandths ("0.5" -> 500), integer so that ties are exact. nullopt when malformed or
// outside [0, 1]: the caller then ignores the parameter (q = 1), as nginx-datadog does.
std::optional<int> parse_qvalue(std::string_view s) {
  s = text::trim_ows(s);
  int whole = 0, frac = 0, scale = 1000;
  std::size_t i = 0;
  bool digits = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) {
    if (whole > 1) return std::nullopt;
    whole = whole * 10 + (s[i] - '0');
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) {
      if (scale > 1) frac += (s[i] - '0') * (scale /= 10);  // digits past the third are ignored
    }
  }
  if (!digits || i != s.size()) return std::nullopt;
  const int milli = whole * 1000 + frac;
  if (milli > 1000) return std::nullopt;
  return milli;
}

// The best Accept entry seen for one content type: the most specific range, first of its kind.
struct Candidate {
  int specificity = 0;  // 0 none, 1 */*, 2 type/*, 3 type/subtype
  int q = 0;            // a type nothing accepts has q 0
  std::size_t pos = 0;

  void offer(int spec, int qvalue, std::size_t position) {
    if (spec <= specificity) return;
    specificity = spec;
    q = qvalue;
    pos = position;
  }
};

bool prefer_html(std::string_view accept) {
  Candidate html, json;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = accept.find(',');
    std::string_view entry = accept.substr(0, comma);
    const std::size_t semi = entry.find(';');
    const std::string_view range = text::trim_ows(entry.substr(0, semi));
    int q = 1000;
    for (std::string_view params = semi == std::string_view::npos ? ""sv : entry.substr(semi + 1);
         !params.empty();) {
      const std::size_t next = params.find(';');
      const std::string_view param = text::trim_ows(params.substr(0, next));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        q = parse_qvalue(param.substr(2)).value_or(1000);
      }
      params = next == std::string_view::npos ? ""sv : params.substr(next + 1);
    }
    const std::size_t slash = range.find('/');
    if (slash != std::string_view::npos) {
      const std::string_view type = text::trim_ows(range.substr(0, slash)),
                             sub = text::trim_ows(range.substr(slash + 1));
      if (type == "*" && sub == "*") {
        html.offer(1, q, pos);
        json.offer(1, q, pos);
      } else if (text::iequals(type, "text")) {
        if (sub == "*") html.offer(2, q, pos);
        if (text::iequals(sub, "html")) html.offer(3, q, pos);
      } else if (text::iequals(type, "application")) {
        if (sub == "*") json.offer(2, q, pos);
        if (text::iequals(sub, "json")) json.offer(3, q, pos);
      }
    }
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
    ++pos;
  }
  if (html.q != json.q) return html.q > json.q;
  if (html.q == 0) return false;  // neither acceptable (or no Accept at all): JSON
  return html.pos < json.pos;     // equal q: the first listed; one shared */* entry: JSON
}

}  // namespace

BlockResponse block_response(const Action& action, std::string_view accept,
                             const std::optional<std::string>& json_template,
                             const std::optional<std::string>& html_template) {
  BlockResponse out;
  if (action.kind == Action::Kind::redirect && !action.location.empty()) {
    const unsigned s = action.status;
    out.status = (s == 301 || s == 302 || s == 303 || s == 307) ? s : 303;
    out.location = action.location;
    return out;
  }
  // A block, or a redirect without a location (downgraded to the default block).
  const bool redirect = action.kind == Action::Kind::redirect;
  out.status = !redirect && action.status >= 100 && action.status <= 599 ? action.status : 403;
  const Action::Type type = redirect ? Action::Type::automatic : action.type;
  bool html = false;
  switch (type) {
    case Action::Type::none:
      return out;
    case Action::Type::html:
      html = true;
      break;
    case Action::Type::json:
      break;
    case Action::Type::automatic:
      html = prefer_html(accept);  // an absent (empty) Accept gives JSON
      break;
  }
  if (html) {
    out.content_type = kHtmlType;
    out.body = html_template ? *html_template : std::string(kDefaultHtml);
  } else {
    out.content_type = kJsonType;
    out.body = json_template ? *json_template : std::string(kDefaultJson);
  }
  return out;
}

}  // namespace gw::appsec
