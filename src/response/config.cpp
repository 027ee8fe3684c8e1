// Reading the response-shaping parts of krakend.json. KrakenD decodes these with mapstructure in
// weakly-typed mode, so a few conversions (number -> string, "true" -> bool, "x" -> ["x"]) are accepted.
#include <string>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Kind;
using json::Value;

// Go type names as mapstructure prints them (koanf hands it float64 numbers).
const char* go_type(const Value& v) {
  switch (v.kind()) {
    case Kind::Null:
      return "<nil>";
    case Kind::Bool:
      return "bool";
    case Kind::Number:
      return "float64";
    case Kind::String:
      return "string";
    case Kind::Array:
      return "[]interface {}";
    case Kind::Object:
      return "map[string]interface {}";
  }
  return "?";
}

std::string shown(const Value& v) {
  if (v.is_string()) return v.as_string();
  std::string s;
  append_go_value(v, s);
  return s;
}

ConfigProblem problem(const Value& where, std::string field, const char* want) {
  return ConfigProblem{&where, field,
                       "'" + field + "' expected type '" + want + "', got unconvertible type '" +
                           go_type(where) + "', value: '" + shown(where) + "'"};
}

bool weak_string(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::String:
      out = v.as_string();
      return true;
    case Kind::Number:
      out = v.number_text();
      return true;
    case Kind::Bool:
      out = v.as_bool() ? "1" : "0";
      return true;
    case Kind::Null:
      out.clear();
      return true;
    default:
      return false;
  }
}

bool weak_bool(const Value& v, bool& out) {
  switch (v.kind()) {
    case Kind::Bool:
      out = v.as_bool();
      return true;
    case Kind::Null:
      out = false;
      return true;
    case Kind::Number: {
      const std::string& t = v.number_text();
      out = t.find_first_not_of("-0.eE+") != std::string::npos;
      return true;
    }
    case Kind::String: {  // strconv.ParseBool, and "" is false in weak mode
      const std::string& s = v.as_string();
      if (s.empty() || s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
        out = false;
        return true;
      }
      if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") {
        out = true;
        return true;
      }
      return false;
    }
    default:
      return false;
  }
}

std::optional<ConfigProblem> string_field(const Value& obj, const char* name, std::string& out) {
  const Value* v = obj.find(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!weak_string(*v, out)) return problem(*v, name, "string");
  return std::nullopt;
}

std::optional<ConfigProblem> string_list(const Value& obj, const char* name, std::vector<std::string>& out) {
  const Value* v = obj.find(name);
  if (!v || v->is_null()) return std::nullopt;
  out.clear();
  if (!v->is_array()) {
    std::string s;
    if (!weak_string(*v, s)) return problem(*v, name, "[]string");
    out.push_back(std::move(s));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const Value& e = v->as_array()[i];
    std::string s;
    if (!weak_string(e, s)) return problem(e, std::string(name) + "[" + std::to_string(i) + "]", "string");
    out.push_back(std::move(s));
  }
  return std::nullopt;
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = s.find('.', start);
    parts.emplace_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

const Value* proxy_namespace(const Value& extra) {
  if (const Value* p = extra.find("proxy")) return p;
  return extra.find("github.com/devopsfaith/krakend/proxy");
}

}  // namespace

FlatmapOp FlatmapOp::make(Type t, std::vector<std::string_view> dotted) {
  FlatmapOp op;
  op.type = t;
  for (auto d : dotted) op.args.push_back(split_dots(d));
  return op;
}

std::optional<ConfigProblem> parse_flatmap(const Value& list, std::vector<FlatmapOp>& out) {
  out.clear();
  if (!list.is_array()) return std::nullopt;  // Lura ignores a non-list flatmap_filter
  const auto& items = list.as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Value& item = items[i];
    if (!item.is_object()) continue;
    const Value* type = item.find("type");
    if (!type || !type->is_string()) continue;
    FlatmapOp op;
    const std::string& t = type->as_string();
    bool known = true;
    if (t == "move") {
      op.type = FlatmapOp::Type::Move;
    } else if (t == "append") {
      op.type = FlatmapOp::Type::Append;
    } else if (t == "del") {
      op.type = FlatmapOp::Type::Del;
    } else {
      known = false;  // Lura keeps it and does nothing with it
    }
    const Value* args = item.find("args");
    if (args && args->is_array()) {
      for (const Value& a : args->as_array()) {
        // Non-string args become empty paths in Lura; they match nothing.
        op.args.push_back(a.is_string() ? split_dots(a.as_string()) : std::vector<std::string>{});
      }
    }
    if (!known) continue;
    if (op.type != FlatmapOp::Type::Del && op.args.size() < 2) {
      return ConfigProblem{args ? args : &item, "flatmap_filter[" + std::to_string(i) + "].args",
                           "'" + t + "' needs two arguments (source and destination)"};
    }
    out.push_back(std::move(op));
  }
  return std::nullopt;
}

std::optional<ConfigProblem> parse_backend_shaping(const Value& backend, BackendShaping& out) {
  if (!backend.is_object()) return ConfigProblem{&backend, "backend", "expected an object"};
  if (auto p = string_field(backend, "encoding", out.encoding)) return p;
  if (out.encoding.empty()) out.encoding = "json";
  if (const Value* v = backend.find("is_collection")) {
    if (!weak_bool(*v, out.is_collection)) return problem(*v, "is_collection", "bool");
  }
  if (auto p = string_field(backend, "target", out.target)) return p;
  if (auto p = string_field(backend, "group", out.group)) return p;
  if (auto p = string_list(backend, "allow", out.allow)) return p;
  if (auto p = string_list(backend, "deny", out.deny)) return p;
  if (const Value* m = backend.find("mapping"); m && !m->is_null()) {
    if (!m->is_object()) return problem(*m, "mapping", "map[string]string");
    out.mapping.clear();
    for (const auto& [k, v] : m->as_object()) {
      std::string s;
      if (!weak_string(v, s)) return problem(v, "mapping." + k, "string");
      out.mapping.emplace_back(k, std::move(s));
    }
  }
  if (const Value* extra = backend.find("extra_config")) {
    if (const Value* proxy = proxy_namespace(*extra); proxy && proxy->is_object()) {
      if (const Value* fm = proxy->find("flatmap_filter")) {
        if (auto p = parse_flatmap(*fm, out.flatmap)) {
          p->field = "extra_config.proxy." + p->field;
          return p;
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<ConfigProblem> parse_static(const Value& proxy_static, std::optional<StaticConfig>& out) {
  out.reset();
  if (!proxy_static.is_object()) return std::nullopt;
  const Value* data = proxy_static.find("data");
  if (!data || !data->is_object()) return std::nullopt;
  StaticConfig cfg;
  cfg.data = *data;
  if (const Value* s = proxy_static.find("strategy"); s && s->is_string()) {
    const std::string& name = s->as_string();
    if (name == "success") {
      cfg.strategy = StaticConfig::Strategy::Success;
    } else if (name == "complete") {
      cfg.strategy = StaticConfig::Strategy::Complete;
    } else if (name == "errored") {
      cfg.strategy = StaticConfig::Strategy::Errored;
    } else if (name == "incomplete") {
      cfg.strategy = StaticConfig::Strategy::Incomplete;
    }
  }
  out = std::move(cfg);
  return std::nullopt;
}

}  // namespace gw::response
