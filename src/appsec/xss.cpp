// XSS test in the spirit of libinjection's HTML5 check, designed independently. Two linear scans
// over a lowercased copy of the value:
//  - markup: every '<' that starts a real tag (a letter, then a space, '/' or '>') is parsed with
//    its attributes; executable tags, on* handlers, script URLs and CSS expressions are flagged;
//  - attribute contexts: a value that lands inside a tag or an attribute needs no '<', so known
//    event handlers (`" onfocus=...`) and script URLs after '=', a quote or '(' are flagged too.
#include <string>
#include <string_view>

#include "appsec/detail.h"
#include "appsec/text_util.h"

namespace gw::appsec::detail {
namespace {

using namespace text;

bool in(std::string_view word, std::initializer_list<std::string_view> list) {
  for (std::string_view w : list) {
    if (w == word) return true;
  }
  return false;
}

// Handlers recognised without a surrounding tag; inside a tag any on* attribute counts.
bool known_handler(std::string_view name) {
  return in(name, {"onload",
                   "onerror",
                   "onclick",
                   "ondblclick",
                   "onmouseover",
                   "onmouseout",
                   "onmousedown",
                   "onmouseup",
                   "onmousemove",
                   "onmouseenter",
                   "onmouseleave",
                   "onfocus",
                   "onfocusin",
                   "onfocusout",
                   "onblur",
                   "onchange",
                   "oninput",
                   "onsubmit",
                   "onreset",
                   "onkeydown",
                   "onkeyup",
                   "onkeypress",
                   "onabort",
                   "onanimationstart",
                   "onanimationend",
                   "onanimationiteration",
                   "ontransitionend",
                   "onbegin",
                   "onend",
                   "onpageshow",
                   "onhashchange",
                   "onpopstate",
                   "onresize",
                   "onscroll",
                   "ontoggle",
                   "onpointerover",
                   "onpointerdown",
                   "onpointerenter",
                   "onpointerup",
                   "ontouchstart",
                   "ontouchend",
                   "ondrag",
                   "ondragstart",
                   "ondrop",
                   "oncopy",
                   "onpaste",
                   "oncut",
                   "onwheel",
                   "onauxclick",
                   "oncontextmenu",
                   "onselect",
                   "onselectstart",
                   "onplay",
                   "oncanplay",
                   "onloadstart",
                   "onloadeddata",
                   "onprogress",
                   "onsearch",
                   "onshow",
                   "onbeforeunload",
                   "onunload",
                   "onmessage",
                   "onstart",
                   "onfinish",
                   "onreadystatechange",
                   "oninvalid",
                   "onvolumechange",
                   "ontimeupdate",
                   "onended",
                   "onpause",
                   "onseeking"});
}

// A URL that runs script: javascript:, vbscript:, data:text/html... Browsers ignore leading
// spaces/controls and tabs/newlines inside the scheme, so those are skipped. The scheme must be
// followed by something that is not a space ("javascript: the good parts" is prose).
bool script_url(std::string_view s, std::size_t i) {
  std::string prefix;
  for (; i < s.size() && static_cast<unsigned char>(s[i]) <= 0x20 && prefix.empty(); ++i) {
  }
  for (; i < s.size() && prefix.size() < 24; ++i) {
    if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r') prefix.push_back(s[i]);
  }
  for (std::string_view scheme :
       {"javascript:", "vbscript:", "livescript:", "data:text/html", "data:image/svg"}) {
    if (prefix.starts_with(scheme) && prefix.size() > scheme.size() && !is_space(prefix[scheme.size()])) {
      return true;
    }
  }
  return false;
}

bool css_expression(std::string_view v) {
  for (std::string_view bad :
       {"expression(", "javascript:", "vbscript:", "-moz-binding", "behavior:", "@import"}) {
    if (v.find(bad) != std::string_view::npos) return true;
  }
  return false;
}

struct Attribute {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

bool dangerous_attribute(std::string_view tag, const Attribute& a) {
  if (!a.has_value) return false;
  if (a.name.size() > 2 && a.name.starts_with("on")) return true;
  if (script_url(a.value, 0)) return true;
  if (a.name == "style") return css_expression(a.value);
  if (a.name == "srcdoc") return a.value.find('<') != std::string_view::npos;
  if (tag == "base") return a.name == "href";
  if (tag == "meta" && a.name == "http-equiv") {
    return a.value.find("refresh") != std::string_view::npos ||
           a.value.find("set-cookie") != std::string_view::npos;
  }
  if (tag == "link" && a.name == "rel") return a.value.find("import") != std::string_view::npos;
  return false;
}

// Parses the tag at s[i] == '<'. Sets `end` past what was parsed (the scan resumes there, so the
// whole check stays linear) and returns whether the tag is dangerous.
bool dangerous_tag(std::string_view s, std::size_t i, std::size_t& end) {
  std::size_t j = i + 1;
  end = j;
  const bool closing = j < s.size() && s[j] == '/';
  if (closing) ++j;
  if (j >= s.size() || !is_alpha(s[j])) return false;
  const std::size_t name_start = j;
  while (j < s.size() && (is_alnum(s[j]) || s[j] == '-' || s[j] == ':')) ++j;
  const std::string_view tag = s.substr(name_start, j - name_start);
  if (j < s.size() && !is_space(s[j]) && s[j] != '/' && s[j] != '>') return false;  // "<a@b.c>", "<http:..."
  if (closing) return tag == "script";  // "</script>" breaks out of a script block
  if (in(tag, {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "vmlframe", "import"})) {
    return true;
  }
  // Bounded look-ahead keeps the scan linear.
  if (tag == "style" && css_expression(s.substr(j, 4096))) return true;
  while (j < s.size()) {
    while (j < s.size() && (is_space(s[j]) || s[j] == '/')) ++j;
    if (j >= s.size() || s[j] == '>' || s[j] == '<') break;
    Attribute a;
    const std::size_t name_from = j++;
    while (j < s.size() && !is_space(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=' && s[j] != '<') ++j;
    a.name = s.substr(name_from, j - name_from);
    std::size_t k = j;
    while (k < s.size() && is_space(s[k])) ++k;
    if (k < s.size() && s[k] == '=') {
      for (j = k + 1; j < s.size() && is_space(s[j]);) ++j;
      a.has_value = true;
      const char quote = j < s.size() ? s[j] : 0;
      if (quote == '"' || quote == '\'' || quote == '`') {
        const std::size_t close = s.find(quote, j + 1);
        const std::size_t stop = close == std::string_view::npos ? s.size() : close;
        a.value = s.substr(j + 1, stop - j - 1);
        j = close == std::string_view::npos ? s.size() : close + 1;
      } else {
        const std::size_t from = j;
        while (j < s.size() && !is_space(s[j]) && s[j] != '>') ++j;
        a.value = s.substr(from, j - from);
      }
    }
    end = j;
    if (dangerous_attribute(tag, a)) return true;
  }
  end = j;
  return false;
}

bool dangerous_markup(std::string_view s) {
  for (std::size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i)) {
    std::size_t end = i + 1;
    if (dangerous_tag(s, i, end)) return true;
    i = end > i ? end : i + 1;
  }
  return false;
}

bool boundary(char c) { return is_space(c) || c == '/' || c == '"' || c == '\'' || c == '`' || c == ';'; }

bool dangerous_attribute_context(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '=' || c == '"' || c == '\'' || c == '`' || c == '(') && script_url(s, i + 1)) return true;
    if (c == 'o' && i + 1 < s.size() && s[i + 1] == 'n' && (i == 0 || boundary(s[i - 1]))) {
      std::size_t j = i + 2;
      while (j < s.size() && is_alpha(s[j])) ++j;
      if (!known_handler(s.substr(i, j - i))) continue;
      while (j < s.size() && is_space(s[j])) ++j;
      if (j < s.size() && s[j] == '=') return true;
    }
  }
  return script_url(s, 0);
}

}  // namespace

bool looks_like_xss(std::string_view value) {
  // Markup needs '<', an event handler '=', a script URL ':': values with none of them (most) stop here.
  if (value.find_first_of("<=:") == std::string_view::npos) return false;
  std::string s;
  s.reserve(value.size());
  for (const char c : value) {
    if (c != '\0') s.push_back(to_lower(c));  // browsers skip NULs in markup
  }
  return dangerous_markup(s) || dangerous_attribute_context(s);
}

}  // namespace gw::appsec::detail
