// Backend `encoding: "xml"`: krakend-xml hands the body to mxj's NewMapXmlReader (no casting), which
// reads Go encoding/xml tokens (Strict mode) into a map. This is a small pull parser that accepts and
// rejects what Go's Decoder does on the paths mxj uses, and builds mxj's layout:
//   {root: value}; value = "" (empty), "text", or {"-attr": "v", "#text": "t", "child": value|[values]}.
// No DTD processing: directives are skipped, only the five predefined entities and numeric references
// expand, so output size stays linear in input size. Depth and size are bounded by XmlLimits.
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "response/response.h"
#include "response/xml_chars.h"

namespace gw::response {
namespace {

using json::Value;
using namespace xml_chars;

constexpr std::string_view kTrim = "\t\r\b\n ";  // mxj's trimRunes (DisableTrimWhiteSpace not called)
constexpr std::size_t kIndexFrom = 16;           // members before a frame gets a hash index

// One open element: mxj's `na` (attributes and children) and `n[skey]` (text seen while na was empty).
struct Frame {
  std::string local, prefix;
  json::Object members;
  std::unordered_map<std::string, std::size_t> index;  // built once members grow, so lookups stay O(1)
  bool has_text = false;
  std::string text;

  Value* find(const std::string& key) {
    if (!index.empty()) {
      auto it = index.find(key);
      return it == index.end() ? nullptr : &members[it->second].second;
    }
    for (auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
  void put(std::string key, Value v) {  // insert or overwrite (Go map assignment)
    if (Value* slot = find(key)) {
      *slot = std::move(v);
      return;
    }
    members.emplace_back(std::move(key), std::move(v));
    if (!index.empty()) {
      index.emplace(members.back().first, members.size() - 1);
    } else if (members.size() >= kIndexFrom) {
      for (std::size_t i = 0; i < members.size(); ++i) index.emplace(members[i].first, i);
    }
  }
  void add_child(std::string key, Value v) {  // repeated element names become a list
    Value* slot = find(key);
    if (!slot) return put(std::move(key), std::move(v));
    if (!slot->is_array()) {
      json::Array a;
      a.push_back(std::move(*slot));
      *slot = Value(std::move(a));
    }
    slot->as_array().push_back(std::move(v));
  }
};

class Parser {
 public:
  Parser(std::string_view doc, const XmlLimits& limits) : s_(doc), limits_(limits) {}
  bool run(Value& out, std::string& error);

 private:
  bool eof() const { return pos_ >= s_.size(); }
  std::size_t line() const;
  bool fail(std::string_view msg);
  bool fail_raw(std::string msg);
  bool need() { return eof() ? fail("unexpected EOF") : true; }
  void space();
  bool read_name_raw(std::string& name);
  bool read_name(std::string& name, bool& ok);
  bool read_nsname(std::string& prefix, std::string& local, bool& ok);
  bool text(int quote, bool cdata, std::string& out);
  bool entity(std::string& out);
  bool markup();
  bool start_element();
  bool end_tag();
  bool proc_inst_token();
  bool bang();
  bool directive();
  bool switch_charset(std::string_view enc);
  void on_text(std::string_view raw);
  void close_element();

  std::string_view s_;
  std::string transcoded_;
  std::size_t lines_before_ = 0;  // '\n's consumed before a charset switch
  std::size_t pos_ = 0;
  XmlLimits limits_;
  std::vector<Frame> stack_;
  std::optional<Value> result_;
  std::string error_;
};

std::size_t Parser::line() const {
  std::size_t n = 1 + lines_before_;
  for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) n += s_[i] == '\n';
  return n;
}

bool Parser::fail(std::string_view msg) {
  return fail_raw("XML syntax error on line " + std::to_string(line()) + ": " + std::string(msg));
}

bool Parser::fail_raw(std::string msg) {
  error_ = std::move(msg);
  return false;
}

void Parser::space() {
  while (!eof() && (s_[pos_] == ' ' || s_[pos_] == '\r' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
}

// Go's readName: the run of name bytes (non-ASCII bytes included); false only at EOF.
bool Parser::read_name_raw(std::string& name) {
  const std::size_t start = pos_;
  while (true) {
    if (!need()) return false;
    if (!is_name_byte(static_cast<unsigned char>(s_[pos_]))) break;
    ++pos_;
  }
  name.assign(s_.substr(start, pos_ - start));
  return true;
}

// Go's Decoder.name: ok=false without an error when no name byte comes first.
bool Parser::read_name(std::string& name, bool& ok) {
  if (!read_name_raw(name)) return false;
  ok = !name.empty();
  if (ok && !is_valid_name(name)) return fail("invalid XML name: " + name);
  return true;
}

// Go 1.21+ nsname: one colon splits prefix:local; more than one is no name at all.
bool Parser::read_nsname(std::string& prefix, std::string& local, bool& ok) {
  std::string s;
  if (!read_name(s, ok)) return false;
  prefix.clear();
  local = s;
  if (!ok) return true;
  const std::size_t c = s.find(':');
  if (c == std::string::npos) return true;
  if (s.find(':', c + 1) != std::string::npos) {
    ok = false;
  } else if (c > 0 && c + 1 < s.size()) {
    prefix = s.substr(0, c);
    local = s.substr(c + 1);
  }
  return true;
}

// Go's Decoder.text: quote < 0 for character data, else an attribute value ending at `quote`.
bool Parser::text(int quote, bool cdata, std::string& out) {
  char b0 = 0, b1 = 0;
  std::size_t trunc = 0;
  while (true) {
    if (eof()) {
      if (cdata) return fail("unexpected EOF in CDATA section");
      if (quote >= 0) return fail("unexpected EOF");
      break;
    }
    const char b = s_[pos_];
    if (b0 == ']' && b1 == ']' && b == '>') {
      ++pos_;
      if (!cdata) return fail("unescaped ]]> not in CDATA section");
      trunc = 2;
      break;
    }
    if (b == '<' && !cdata) {
      if (quote >= 0) return ++pos_, fail("unescaped < inside quoted string");
      break;
    }
    ++pos_;
    if (quote >= 0 && b == quote) break;
    if (b == '&' && !cdata) {
      if (!entity(out)) return false;
      b0 = b1 = 0;
      continue;
    }
    if (b == '\r') {
      out.push_back('\n');
    } else if (!(b1 == '\r' && b == '\n')) {
      out.push_back(b);
    }
    b0 = b1;
    b1 = b;
  }
  out.resize(out.size() - trunc);
  for (std::size_t i = 0; i < out.size();) {
    const char32_t r = decode_rune(out, i);
    if (r == static_cast<char32_t>(-1)) return fail("invalid UTF-8");
    if (!in_character_range(r)) return fail("illegal character code " + go_rune_format(r));
  }
  return true;
}

// After '&': the five predefined entities and &#N; / &#xN; only (no DTD-declared entities).
bool Parser::entity(std::string& out) {
  std::string raw = "&";
  if (!need()) return false;
  if (s_[pos_] == '#') {
    raw += s_[pos_++];
    if (!need()) return false;
    const bool hex = s_[pos_] == 'x';
    if (hex) raw += s_[pos_++];
    const std::size_t start = raw.size();
    while (true) {
      if (!need()) return false;
      const char c = s_[pos_];
      if (!((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))) break;
      raw += c;
      ++pos_;
    }
    if (s_[pos_] == ';') {
      ++pos_;
      const std::string digits = raw.substr(start);
      raw += ';';
      std::uint64_t n = 0;
      bool ok = !digits.empty();
      for (char c : digits) {
        const int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        n = n * (hex ? 16 : 10) + d;
        if (n > 0x10FFFF) ok = false;  // also stops overflow: n only grows
        if (!ok) break;
      }
      if (ok) return append_utf8(static_cast<char32_t>(n), out), true;
    }
  } else {
    std::string name;
    if (!read_name_raw(name)) return false;
    const bool ok = is_valid_name(name);
    raw += name;
    if (!need()) return false;
    if (s_[pos_] == ';') {
      ++pos_;
      raw += ';';
      static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities = {
          {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"apos", '\''}, {"quot", '"'}}};
      for (const auto& [ent, ch] : kEntities)
        if (ok && name == ent) return out.push_back(ch), true;
    }
  }
  if (raw.back() != ';') raw += " (no semicolon)";
  return fail("invalid character entity " + raw);
}

bool Parser::markup() {
  ++pos_;  // '<'
  if (!need()) return false;
  switch (s_[pos_]) {
    case '/':
      return ++pos_, end_tag();
    case '?':
      return ++pos_, proc_inst_token();
    case '!':
      return ++pos_, bang();
    default:
      return start_element();
  }
}

bool Parser::start_element() {
  Frame f;
  bool ok = false;
  if (!read_nsname(f.prefix, f.local, ok)) return false;
  if (!ok) return fail("expected element name after <");
  if (stack_.size() >= limits_.max_depth)
    return fail_raw("xml: elements nested deeper than " + std::to_string(limits_.max_depth));
  bool empty = false;
  while (true) {
    space();
    if (!need()) return false;
    if (s_[pos_] == '/') {
      ++pos_;
      if (!need()) return false;
      if (s_[pos_++] != '>') return fail("expected /> in element");
      empty = true;
      break;
    }
    if (s_[pos_] == '>') {
      ++pos_;
      break;
    }
    std::string prefix, local, value;
    if (!read_nsname(prefix, local, ok)) return false;
    if (!ok) return fail("expected attribute name in element");
    space();
    if (!need()) return false;
    if (s_[pos_++] != '=') return fail("attribute name without = in element");
    space();
    if (!need()) return false;
    const char q = s_[pos_++];
    if (q != '"' && q != '\'') return fail("unquoted or missing attribute value in element");
    if (!text(q, false, value)) return false;
    f.put("-" + local, Value(std::move(value)));  // the prefix (xmlns:, xml:, ns:) is dropped
  }
  stack_.push_back(std::move(f));
  if (empty) close_element();
  return true;
}

bool Parser::end_tag() {
  std::string prefix, local;
  bool ok = false;
  if (!read_nsname(prefix, local, ok)) return false;
  if (!ok) return fail("expected element name after </");
  space();
  if (!need()) return false;
  if (s_[pos_++] != '>') return fail("invalid characters between </" + local + " and >");
  if (stack_.empty()) return fail("unexpected end element </" + local + ">");
  const Frame& top = stack_.back();
  if (top.local != local) return fail("element <" + top.local + "> closed by </" + local + ">");
  if (top.prefix != prefix) {
    return fail("element <" + top.local + "> in space " + top.prefix + " closed by </" + local +
                "> in space " + (prefix.empty() ? std::string("\"\"") : prefix));
  }
  close_element();
  return true;
}

// mxj's EndElement case: text alone is the value; with attributes or children it is "#text".
void Parser::close_element() {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  Value v;
  if (!f.has_text) {
    v = f.members.empty() ? Value("") : Value(std::move(f.members));
  } else if (!f.members.empty()) {
    f.put("#text", Value(std::move(f.text)));  // text seen before any child wins over later text
    v = Value(std::move(f.members));
  } else {
    v = Value(std::move(f.text));
  }
  if (stack_.empty()) {
    json::Object root;
    root.emplace_back(std::move(f.local), std::move(v));
    result_ = Value(std::move(root));
  } else {
    stack_.back().add_child(std::move(f.local), std::move(v));
  }
}

// mxj's CharData case: trimmed; the last non-empty piece wins; text outside the root is ignored.
void Parser::on_text(std::string_view raw) {
  const std::size_t b = raw.find_first_not_of(kTrim);
  if (b == std::string_view::npos || stack_.empty()) return;
  const std::string_view t = raw.substr(b, raw.find_last_not_of(kTrim) - b + 1);
  Frame& f = stack_.back();
  if (!f.members.empty()) {
    f.put("#text", Value(std::string(t)));
  } else {
    f.has_text = true;
    f.text.assign(t);
  }
}

bool Parser::proc_inst_token() {
  std::string target;
  bool ok = false;
  if (!read_name(target, ok)) return false;
  if (!ok) return fail("expected target name after <?");
  space();
  const std::size_t start = pos_;
  for (char b0 = 0;;) {
    if (!need()) return false;
    const char b = s_[pos_++];
    if (b0 == '?' && b == '>') break;
    b0 = b;
  }
  if (target != "xml") return true;
  const std::string content(s_.substr(start, pos_ - start - 2));
  const std::string_view ver = proc_inst("version", content);
  if (!ver.empty() && ver != "1.0")
    return fail_raw("xml: unsupported version \"" + std::string(ver) + "\"; only version 1.0 is supported");
  const std::string_view enc = proc_inst("encoding", content);
  return enc.empty() || is_utf8_label(enc) ? true : switch_charset(enc);
}

// charset.NewReaderLabel takes over the rest of the stream; only windows-1252 labels are known here.
bool Parser::switch_charset(std::string_view enc) {
  std::string label(enc);
  label.erase(0, label.find_first_not_of(" \t\n\r\f"));
  label.erase(label.find_last_not_of(" \t\n\r\f") + 1);
  if (!is_cp1252_label(label)) {
    return fail_raw("xml: opening charset \"" + std::string(enc) + "\": unsupported charset: \"" +
                    std::string(enc) + "\"");
  }
  std::string utf8;
  utf8.reserve(s_.size() - pos_);
  for (const char c : s_.substr(pos_)) {
    const auto b = static_cast<unsigned char>(c);
    append_utf8(cp1252_rune(b), utf8);
  }
  lines_before_ = line() - 1;
  transcoded_ = std::move(utf8);
  s_ = transcoded_;
  pos_ = 0;
  return true;
}

// After "<!": a comment, a CDATA section (character data) or a directive (skipped: no DTD).
bool Parser::bang() {
  if (!need()) return false;
  const char b = s_[pos_++];
  if (b == '-') {
    if (!need()) return false;
    if (s_[pos_++] != '-') return fail("invalid sequence <!- not part of <!--");
    for (char b0 = 0, b1 = 0;;) {
      if (!need()) return false;
      const char c = s_[pos_++];
      if (b0 == '-' && b1 == '-') {
        if (c != '>') return fail("invalid sequence \"--\" not allowed in comments");
        return true;
      }
      b0 = b1;
      b1 = c;
    }
  }
  if (b == '[') {
    for (const char want : std::string_view("CDATA[")) {
      if (!need()) return false;
      if (s_[pos_++] != want) return fail("invalid <![ sequence");
    }
    std::string data;
    if (!text(-1, true, data)) return false;
    on_text(data);
    return true;
  }
  return directive();
}

// Go's directive scan: nesting '<' '>' outside quotes, embedded <!-- --> comments.
bool Parser::directive() {
  char inquote = 0;
  for (int depth = 0;;) {
    if (!need()) return false;
    char b = s_[pos_++];
    if (inquote == 0 && b == '>' && depth == 0) return true;
    if (b == inquote) {
      inquote = 0;
    } else if (inquote != 0) {
    } else if (b == '\'' || b == '"') {
      inquote = b;
    } else if (b == '>') {
      --depth;
    } else if (b == '<') {
      std::size_t matched = 0;
      for (; matched < 3; ++matched) {
        if (!need()) return false;
        if (s_[pos_] != "!--"[matched]) break;
        ++pos_;
      }
      if (matched < 3) {
        ++depth;  // the unmatched byte is looked at again by the loop, as Go's `goto HandleB`
        continue;
      }
      for (char b0 = 0, b1 = 0;;) {
        if (!need()) return false;
        b = s_[pos_++];
        if (b0 == '-' && b1 == '-' && b == '>') break;
        b0 = b1;
        b1 = b;
      }
    }
  }
}

bool Parser::run(Value& out, std::string& error) {
  while (!result_) {
    bool ok = true;
    if (eof()) {
      if (stack_.empty()) return error = "EOF", false;  // io.EOF, returned by mxj unwrapped
      ok = fail("unexpected EOF");
    } else if (s_[pos_] == '<') {
      ok = markup();
    } else {
      std::string t;
      ok = text(-1, false, t);
      if (ok) on_text(t);
    }
    if (!ok) return error = "xml.Decoder.Token() - " + error_, false;
  }
  out = std::move(*result_);  // whatever follows the root element is never read
  return true;
}

}  // namespace

bool decode_xml(std::string_view body, Value& out, std::string& error, const XmlLimits& limits) {
  if (body.size() > limits.max_bytes) {
    error = "xml: body of " + std::to_string(body.size()) + " bytes is over the " +
            std::to_string(limits.max_bytes) + "-byte limit";
    return false;
  }
  Parser p(body, limits);
  return p.run(out, error);
}

}  // namespace gw::response
