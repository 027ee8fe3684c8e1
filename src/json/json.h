// A small JSON document model made for a gateway that must behave like KrakenD (Go encoding/json):
// numbers keep the literal the backend wrote (1.0 stays 1.0, big ints survive), objects keep
// insertion order in memory but are encoded with sorted keys, and every value remembers the byte
// offset it came from so config errors can name line:column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gw::json {

enum class Kind : std::uint8_t { Null, Bool, Number, String, Array, Object };

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;  // unique keys; lookups are linear (objects here are small)

struct NumberLiteral {
  std::string text;  // exactly as written in the source, e.g. "1.0", "-3e10", "12345678901234567890"
};

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(NumberLiteral n) : data_(std::move(n)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}
  static Value number(std::int64_t v) { return Value(NumberLiteral{std::to_string(v)}); }
  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::Null; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_number() const { return kind() == Kind::Number; }
  bool is_string() const { return kind() == Kind::String; }
  bool is_array() const { return kind() == Kind::Array; }
  bool is_object() const { return kind() == Kind::Object; }

  // Accessors: calling one of these on the wrong kind is a programming error (std::bad_variant_access).
  bool as_bool() const { return std::get<bool>(data_); }
  const std::string& number_text() const { return std::get<NumberLiteral>(data_).text; }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  std::string& as_string() { return std::get<std::string>(data_); }
  const Array& as_array() const { return std::get<Array>(data_); }
  Array& as_array() { return std::get<Array>(data_); }
  const Object& as_object() const { return std::get<Object>(data_); }
  Object& as_object() { return std::get<Object>(data_); }

  // Replace the content in place, without a temporary Value (the parser builds every value this way).
  std::string& emplace_string() { return data_.emplace<std::string>(); }
  void emplace_number(std::string_view literal) { data_.emplace<NumberLiteral>().text.assign(literal); }
  void emplace_bool(bool b) { data_.emplace<bool>(b); }
  Array& emplace_array() { return data_.emplace<Array>(); }
  Object& emplace_object() { return data_.emplace<Object>(); }

  // Object helpers (null / false when this is not an object).
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Inserts or replaces `key` (keeps its position when replacing). Turns a null value into an object.
  Value& set(std::string key, Value v);
  bool erase(std::string_view key);

  // Byte offset in the parsed text where this value starts (0 for values built in code).
  std::size_t offset() const { return offset_; }
  void set_offset(std::size_t o) { offset_ = o; }

  // A Go struct rather than a map: encode() writes this object's members in stored order instead
  // of sorting them (KrakenD's error details). Not compared by operator==.
  bool keep_order() const { return keep_order_; }
  void set_keep_order(bool k) { keep_order_ = k; }

  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, NumberLiteral, std::string, Array, Object> data_;
  std::size_t offset_ = 0;
  bool keep_order_ = false;
};

struct ParseError {
  std::size_t offset = 0;
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
  std::string message;     // e.g. "unexpected character '}'", "unterminated string"
};

struct ParseOptions {
  // Go's json.Decoder reads the first value and ignores what follows (KrakenD backend decoding);
  // config files must be exactly one value.
  bool allow_trailing = false;
  std::size_t max_depth = 512;
};

// Parses `text`. On failure returns nullopt and fills `error` (when given). Duplicate object keys:
// the last one wins, as with Go maps. Strings are unescaped to UTF-8 (lone surrogates -> U+FFFD).
std::optional<Value> parse(std::string_view text, ParseError* error = nullptr, ParseOptions options = {});

// Go encoding/json Marshal of a map[string]interface{}: object keys sorted (byte order) at every
// level, numbers written as their literal, '<' '>' '&' U+2028 U+2029 escaped as \u003c etc.,
// invalid UTF-8 replaced by U+FFFD, no whitespace, no trailing newline. Appends to `out`.
void encode(const Value& value, std::string& out);
std::string encode(const Value& value);

// Appends a JSON string literal (with quotes) escaped exactly as encode() does.
void encode_string(std::string_view s, std::string& out);

// 1-based line and column of a byte offset in `text`.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset);

}  // namespace gw::json
