// Value helpers and the recursive-descent parser. Error messages follow Go's encoding/json
// SyntaxError texts, because KrakenD reports config syntax errors with exactly those words.
#include "json/json.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <iterator>

#include "json/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gw::json {

// ---------------------------------------------------------------- Value

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& m : std::get<Object>(data_))
    if (m.first == key) return &m.second;
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

Value& Value::set(std::string key, Value v) {
  if (is_null()) data_ = Object{};
  auto& obj = std::get<Object>(data_);
  for (auto& m : obj) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  obj.emplace_back(std::move(key), std::move(v));
  return obj.back().second;
}

bool Value::erase(std::string_view key) {
  if (!is_object()) return false;
  auto& obj = std::get<Object>(data_);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it->first == key) {
      obj.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Null:
      return true;
    case Kind::Bool:
      return a.as_bool() == b.as_bool();
    case Kind::Number:
      return a.number_text() == b.number_text();
    case Kind::String:
      return a.as_string() == b.as_string();
    case Kind::Array:
      return a.as_array() == b.as_array();
    case Kind::Object: {
      // Member order is not significant (Go maps).
      const auto& x = a.as_object();
      const auto& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (const auto& m : x) {
        const Value* o = b.find(m.first);
        if (!o || !(*o == m.second)) return false;
      }
      return true;
    }
  }
  return false;
}

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

// ---------------------------------------------------------------- parser

namespace {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's quoteChar: how a byte is shown inside "invalid character ..." messages.
std::string quote_char(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  switch (c) {
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\v':
      return "'\\v'";
    default:
      break;
  }
  static const char* hex = "0123456789abcdef";
  if (c < 0x20 || c == 0x7f) return std::string("'\\x") + hex[c >> 4] + hex[c & 15] + "'";
  return std::string("'\\x") + hex[c >> 4] + hex[c & 15] + "'";  // invalid UTF-8 byte, as Go shows it
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& opt)
      : begin_(text.data()), p_(begin_), end_(begin_ + text.size()), opt_(opt) {}

  bool run(Value& out) {
    skip_ws();
    if (p_ == end_) return fail_eof();
    if (!value(out, 0)) return false;
    if (opt_.allow_trailing) return true;
    skip_ws();
    if (p_ != end_) return fail("invalid character " + quote_char(*p_) + " after top-level value");
    return true;
  }

  ParseError error;

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
  const ParseOptions& opt_;
  // Per-depth scratch vectors, reused by every parse on this thread: elements are collected here and
  // moved once into an exactly sized container, instead of paying for the doubling reallocations of
  // every small object/array. deque: growing it keeps references to outer levels valid.
  struct Scratch {
    std::deque<Array> arrays;
    std::deque<Object> objects;
  };
  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }
  template <class T>
  static T& level(std::deque<T>& stack, std::size_t depth) {
    if (stack.size() <= depth) stack.resize(depth + 1);
    T& v = stack[depth];
    v.clear();
    return v;
  }
  // Gives the collected elements to `target` (empty) whole, without moving them one by one, and
  // leaves the level with room for a sibling of the same size: objects at one depth tend to look
  // alike (arrays of records). Past kReuse elements the level starts empty, so a thread does not keep
  // a big buffer per depth.
  template <class T>
  static void hand_over(T& items, T& target) {
    constexpr std::size_t kReuse = 64;
    const std::size_t n = items.size();
    target.swap(items);
    if (n <= kReuse) items.reserve(n);
  }

  bool fail(std::string msg) {
    error.offset = static_cast<std::size_t>(p_ - begin_);
    error.message = std::move(msg);
    return false;
  }
  bool fail_eof() {
    p_ = end_;
    return fail("unexpected end of JSON input");
  }
  bool fail_char(const char* context) {
    if (p_ >= end_) return fail_eof();
    return fail("invalid character " + quote_char(static_cast<unsigned char>(*p_)) + " " + context);
  }

  void skip_ws() {
    while (p_ < end_ && is_space(*p_)) ++p_;
  }

  bool value(Value& out, std::size_t depth) {
    if (p_ >= end_) return fail_eof();
    const std::size_t off = static_cast<std::size_t>(p_ - begin_);
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"':
        if (!string(out.emplace_string())) return false;
        break;
      case 't':
        if (!literal("true")) return false;
        out.emplace_bool(true);
        break;
      case 'f':
        if (!literal("false")) return false;
        out.emplace_bool(false);
        break;
      case 'n':
        if (!literal("null")) return false;
        out = Value();
        break;
      default:
        if (*p_ == '-' || is_digit(*p_)) {
          const char* start = p_;
          if (!number()) return false;
          out.emplace_number(std::string_view(start, static_cast<std::size_t>(p_ - start)));
          break;
        }
        return fail_char("looking for beginning of value");
    }
    out.set_offset(off);
    return true;
  }

  bool literal(std::string_view word) {
    for (std::size_t i = 0; i < word.size(); ++i, ++p_) {
      if (p_ >= end_) return fail_eof();
      if (*p_ != word[i]) {
        std::string ctx = "in literal " + std::string(word) + " (expecting '" + word[i] + "')";
        return fail_char(ctx.c_str());
      }
    }
    return true;
  }

  bool number() {
    if (*p_ == '-') {
      ++p_;
      if (p_ >= end_) return fail_eof();
      if (!is_digit(*p_)) return fail_char("in numeric literal");
    }
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_) return fail_eof();
      if (!is_digit(*p_)) return fail_char("after decimal point in numeric literal");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_) return fail_eof();
      if (!is_digit(*p_)) return fail_char("in exponent of numeric literal");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    return true;
  }

  bool hex4(unsigned& v) {
    v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ >= end_) return fail_eof();
      int h = hex_value(*p_);
      if (h < 0) return fail_char("in \\u hexadecimal character escape");
      v = (v << 4) | static_cast<unsigned>(h);
    }
    return true;
  }

  // Advances p_ past plain string bytes: printable ASCII other than '"' and '\\'. Sixteen at a time
  // while a whole block lies inside the text (strings are short; the block may run past this one).
  void skip_plain() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end_ - p_ >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches them.
      const __m128i special = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), _mm_cmplt_epi8(v, space));
      if (const int mask = _mm_movemask_epi8(special)) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return;
      ++p_;
    }
  }

  // p_ at the opening quote. Fast path copies runs of plain ASCII in one go.
  bool string(std::string& out) {
    ++p_;
    const char* run = p_;
    for (;;) {
      skip_plain();
      out.append(run, p_);
      if (p_ >= end_) return fail_eof();
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return fail_char("in string literal");
      if (c >= 0x80) {
        std::size_t size = 0;
        char32_t r = utf8::decode(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), size);
        if (r == utf8::kRuneError && size == 1) {
          utf8::append(out, utf8::kRuneError);
        } else {
          out.append(p_, size);
        }
        p_ += size;
        run = p_;
        continue;
      }
      // backslash
      ++p_;
      if (p_ >= end_) return fail_eof();
      char e = *p_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          ++p_;
          unsigned cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xE000) {
            // A high surrogate pairs with a following \uDC00-\uDFFF; anything else is U+FFFD and the
            // next escape is read on its own (Go's behaviour).
            unsigned lo = 0;
            if (cp < 0xDC00 && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
              const char* save = p_;
              p_ += 2;
              bool ok = true;
              for (int i = 0; i < 4; ++i) {
                int h = hex_value(p_[i]);
                if (h < 0) {
                  ok = false;
                  break;
                }
                lo = (lo << 4) | static_cast<unsigned>(h);
              }
              if (ok && lo >= 0xDC00 && lo < 0xE000) {
                p_ += 4;
                utf8::append(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
              } else {
                p_ = save;
                utf8::append(out, utf8::kRuneError);
              }
            } else {
              utf8::append(out, utf8::kRuneError);
            }
          } else {
            utf8::append(out, cp);
          }
          run = p_;
          continue;
        }
        default:
          return fail_char("in string escape code");
      }
      ++p_;
      run = p_;
    }
  }

  bool array(Value& out, std::size_t depth) {
    if (depth > opt_.max_depth) return fail("exceeded max depth");
    std::size_t off = static_cast<std::size_t>(p_ - begin_);
    ++p_;
    Array& arr = level(scratch().arrays, depth);
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
    } else {
      for (;;) {
        skip_ws();
        arr.emplace_back();
        if (!value(arr.back(), depth)) return false;
        skip_ws();
        if (p_ >= end_) return fail_eof();
        if (*p_ == ',') {
          ++p_;
          continue;
        }
        if (*p_ == ']') {
          ++p_;
          break;
        }
        return fail_char("after array element");
      }
    }
    hand_over(arr, out.emplace_array());
    out.set_offset(off);
    return true;
  }

  bool object(Value& out, std::size_t depth) {
    if (depth > opt_.max_depth) return fail("exceeded max depth");
    std::size_t off = static_cast<std::size_t>(p_ - begin_);
    ++p_;
    Object& obj = level(scratch().objects, depth);
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
    } else {
      for (;;) {
        skip_ws();
        if (p_ >= end_) return fail_eof();
        if (*p_ != '"') return fail_char("looking for beginning of object key string");
        obj.emplace_back();
        if (!string(obj.back().first)) return false;
        skip_ws();
        if (p_ >= end_) return fail_eof();
        if (*p_ != ':') return fail_char("after object key");
        ++p_;
        skip_ws();
        if (!value(obj.back().second, depth)) return false;
        skip_ws();
        if (p_ >= end_) return fail_eof();
        if (*p_ == ',') {
          ++p_;
          continue;
        }
        if (*p_ == '}') {
          ++p_;
          break;
        }
        return fail_char("after object key:value pair");
      }
      dedupe(obj);
    }
    hand_over(obj, out.emplace_object());
    out.set_offset(off);
    return true;
  }

  // Duplicate keys: the last value wins, at the first key's position (Go map semantics).
  static void dedupe(Object& obj) {
    const std::size_t n = obj.size();
    if (n < 2) return;
    bool dup = false;
    if (n <= 16) {
      for (std::size_t i = 1; i < n && !dup; ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (obj[i].first == obj[j].first) {
            dup = true;
            break;
          }
    } else {
      std::vector<std::string_view> keys;
      keys.reserve(n);
      for (const auto& m : obj) keys.emplace_back(m.first);
      std::sort(keys.begin(), keys.end());
      dup = std::adjacent_find(keys.begin(), keys.end()) != keys.end();
    }
    if (!dup) return;
    Object result;
    result.reserve(n);
    for (auto& m : obj) {
      auto it =
          std::find_if(result.begin(), result.end(), [&](const Member& r) { return r.first == m.first; });
      if (it != result.end()) {
        it->second = std::move(m.second);
      } else {
        result.push_back(std::move(m));
      }
    }
    obj = std::move(result);
  }
};

}  // namespace

std::optional<Value> parse(std::string_view text, ParseError* error, ParseOptions options) {
  Parser parser(text, options);
  Value v;
  if (parser.run(v)) return v;
  if (error) {
    *error = std::move(parser.error);
    auto [line, col] = line_column(text, error->offset);
    error->line = line;
    error->column = col;
  }
  return std::nullopt;
}

}  // namespace gw::json
