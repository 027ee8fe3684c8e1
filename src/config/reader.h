// Private to the config module: typed field reads that turn every problem into a ConfigError
// naming file, line:column and the field's JSON path. Values are weakly typed like KrakenD's
// koanf+mapstructure ("8080" is a valid port, "true" a valid bool).
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "json/json.h"

namespace gw::config {

class Reader {
 public:
  Reader(std::string_view text, std::string path) : text_(text), path_(std::move(path)) {}

  // "line 12, column 5" of a value (or "environment" for KRAKEND_* overrides).
  std::string position(const json::Value& v) const {
    if (v.offset() == std::string::npos) return "environment";
    auto [line, col] = json::line_column(text_, v.offset());
    return std::to_string(line) + ":" + std::to_string(col);
  }

  // "'file': line L, column C, field 'F': ", the prefix of every error; warnings use it too.
  std::string locate(const json::Value& v, const std::string& field) const {
    if (v.offset() == std::string::npos)
      return "'" + path_ + "': KRAKEND_ environment override of '" + field + "': ";
    auto [line, col] = json::line_column(text_, v.offset());
    return where(line, col, field);
  }

  [[noreturn]] void fail(const json::Value& v, const std::string& field, const std::string& message) const {
    throw ConfigError(locate(v, field) + message);
  }
  [[noreturn]] void fail_at(std::size_t offset, const std::string& field, const std::string& message) const {
    auto [line, col] = json::line_column(text_, offset);
    throw ConfigError(where(line, col, field) + message);
  }

  void expect_object(const json::Value& v, const std::string& field) const {
    if (!v.is_object()) fail(v, field, "expected an object, got " + kind_name(v));
  }
  void expect_array(const json::Value& v, const std::string& field) const {
    if (!v.is_array()) fail(v, field, "expected an array, got " + kind_name(v));
  }

  std::string string(const json::Value& v, const std::string& field) const {
    if (v.is_string()) return v.as_string();
    if (v.is_number()) return v.number_text();
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    fail(v, field, "expected a string, got " + kind_name(v));
  }
  std::string string_or(const json::Value* v, const std::string& field, std::string fallback) const {
    if (!v || v->is_null()) return fallback;
    return string(*v, field);
  }

  long long integer(const json::Value* v, const std::string& field, long long fallback) const {
    if (!v || v->is_null()) return fallback;
    std::string text;
    if (v->is_number())
      text = v->number_text();
    else if (v->is_string())
      text = v->as_string();
    else
      fail(*v, field, "expected an integer, got " + kind_name(*v));
    char* end = nullptr;
    long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') fail(*v, field, "expected an integer, got '" + text + "'");
    return n;
  }

  bool boolean(const json::Value* v, const std::string& field, bool fallback) const {
    if (!v || v->is_null()) return fallback;
    if (v->is_bool()) return v->as_bool();
    if (v->is_string()) {
      const auto& s = v->as_string();
      if (s == "true" || s == "1" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "0" || s == "False" || s == "FALSE" || s.empty()) return false;
    }
    if (v->is_number()) return v->number_text() != "0";
    fail(*v, field, "expected a boolean, got " + kind_name(*v));
  }

  // Go duration string, or a bare number taken as nanoseconds (mapstructure's behaviour).
  Duration duration(const json::Value* v, const std::string& field, Duration fallback) const {
    if (!v || v->is_null()) return fallback;
    if (v->is_number()) {
      char* end = nullptr;
      long long n = std::strtoll(v->number_text().c_str(), &end, 10);
      if (*end != '\0') fail(*v, field, "invalid duration " + v->number_text());
      return Duration{n};
    }
    if (!v->is_string()) fail(*v, field, "expected a duration such as \"2s\", got " + kind_name(*v));
    auto d = parse_go_duration(v->as_string());
    if (!d) fail(*v, field, "time: invalid duration \"" + v->as_string() + "\"");
    return *d;
  }

  std::vector<std::string> string_list(const json::Value* v, const std::string& field) const {
    std::vector<std::string> out;
    if (!v || v->is_null()) return out;
    expect_array(*v, field);
    for (std::size_t i = 0; i < v->as_array().size(); ++i)
      out.push_back(string(v->as_array()[i], field + "[" + std::to_string(i) + "]"));
    return out;
  }

 private:
  static std::string kind_name(const json::Value& v) {
    switch (v.kind()) {
      case json::Kind::Null:
        return "null";
      case json::Kind::Bool:
        return "a boolean";
      case json::Kind::Number:
        return "a number";
      case json::Kind::String:
        return "a string";
      case json::Kind::Array:
        return "an array";
      case json::Kind::Object:
        return "an object";
    }
    return "?";
  }
  std::string where(std::size_t line, std::size_t col, const std::string& field) const {
    std::string s = "'" + path_ + "': line " + std::to_string(line) + ", column " + std::to_string(col);
    if (!field.empty()) s += ", field '" + field + "'";
    return s + ": ";
  }

  std::string_view text_;
  std::string path_;
};

}  // namespace gw::config
