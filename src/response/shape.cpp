// Backend decoding, entity formatting (Lura proxy/formatter.go semantics), merge and static data.
#include <algorithm>
#include <memory>
#include <unordered_map>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Kind;
using json::Object;
using json::Value;

const char* go_decoded_type(const Value& v) {
  switch (v.kind()) {
    case Kind::Bool:
      return "bool";
    case Kind::Number:
      return "number";
    case Kind::String:
      return "string";
    case Kind::Array:
      return "array";
    default:
      return "object";
  }
}

// Go's json.Decoder.Decode of the first value (UseNumber).
bool decode_first(std::string_view body, Value& out, std::string& error) {
  json::ParseOptions opt;
  opt.allow_trailing = true;
  opt.max_depth = 10000;  // Go's limit
  json::ParseError err;
  auto v = json::parse(body, &err, opt);
  if (!v) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      error = "EOF";
    } else if (err.message == "unexpected end of JSON input") {
      error = "unexpected EOF";
    } else {
      error = std::move(err.message);
    }
    return false;
  }
  out = std::move(*v);
  return true;
}

Value wrap(const char* key, Value v) {
  Object o;
  o.emplace_back(key, std::move(v));
  return Value(std::move(o));
}

std::string_view first_segment(std::string_view s) { return s.substr(0, s.find('.')); }

void extract_target(Value& data, std::string_view target) {
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = target.find('.', start);
    std::string_view part = target.substr(start, dot == std::string_view::npos ? target.npos : dot - start);
    Value* next = data.find(part);
    if (!next || !next->is_object()) {
      data = Value::object();
      return;
    }
    Value tmp = std::move(*next);
    data = std::move(tmp);
    if (dot == std::string_view::npos) return;
    start = dot + 1;
  }
}

// The allow-list tree Lura builds (later entries overwrite earlier leaves/subtrees).
struct AllowNode {
  std::string key;
  bool leaf = true;
  std::vector<AllowNode> children;
  AllowNode* child(std::string_view k) {
    for (auto& c : children)
      if (c.key == k) return &c;
    return nullptr;
  }
};

AllowNode build_allow_tree(const std::vector<std::string>& allow) {
  AllowNode root;
  root.leaf = false;
  for (const std::string& path : allow) {
    AllowNode* p = &root;
    std::size_t start = 0;
    for (;;) {
      std::size_t dot = path.find('.', start);
      std::string_view seg =
          std::string_view(path).substr(start, dot == std::string::npos ? path.npos : dot - start);
      AllowNode* c = p->child(seg);
      if (!c) {
        p->children.push_back(AllowNode{std::string(seg), true, {}});
        c = &p->children.back();
      }
      if (dot == std::string::npos) {
        c->leaf = true;  // a leaf replaces whatever subtree was there
        c->children.clear();
        break;
      }
      if (c->leaf) {  // an intermediate leaf becomes a (new, empty) dict
        c->leaf = false;
        c->children.clear();
      }
      p = c;
      start = dot + 1;
    }
  }
  return root;
}

// Returns true when nothing was kept (Lura's AllowlistPrune).
bool allow_prune(AllowNode& wl, Object& obj) {
  bool can_delete = true;
  Object kept;
  kept.reserve(obj.size());
  for (auto& m : obj) {
    bool keep = false;
    if (AllowNode* sub = wl.child(m.first)) {
      if (sub->leaf) {
        keep = true;
      } else if (m.second.is_object() && !allow_prune(*sub, m.second.as_object())) {
        keep = true;
      }
    }
    if (keep) {
      kept.push_back(std::move(m));
      can_delete = false;
    }
  }
  obj = std::move(kept);
  return can_delete;
}

void apply_allow(Value& data, const std::vector<std::string>& allow) {
  AllowNode tree = build_allow_tree(allow);
  allow_prune(tree, data.as_object());
}

// Lura's deny tree (proxy/formatter.go buildDenyTree / recDelete): a path's last segment deletes that
// key with everything under it; a path through a key already deleted adds nothing; objects are
// descended into, arrays and scalars are not.
struct DenyNode {
  // child == nullptr: delete the key.
  std::vector<std::pair<std::string_view, std::unique_ptr<DenyNode>>> children;
  std::pair<std::string_view, std::unique_ptr<DenyNode>>* find(std::string_view key) {
    for (auto& c : children)
      if (c.first == key) return &c;
    return nullptr;
  }
};

void build_deny(DenyNode& root, std::string_view path) {
  DenyNode* node = &root;
  for (;;) {
    const std::size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    auto* child = node->find(key);
    if (dot == std::string_view::npos) {  // the key to delete, descendants and all
      if (child)
        child->second.reset();
      else
        node->children.emplace_back(key, nullptr);
      return;
    }
    if (!child) {
      node->children.emplace_back(key, std::make_unique<DenyNode>());
      child = &node->children.back();
    } else if (!child->second) {
      return;  // everything under key is deleted already
    }
    node = child->second.get();
    path.remove_prefix(dot + 1);
  }
}

void deny_delete(const DenyNode& tree, Value& data) {
  if (!data.is_object()) return;
  for (const auto& [key, sub] : tree.children) {
    if (!sub)
      data.erase(key);
    else if (Value* v = data.find(key))
      deny_delete(*sub, *v);
  }
}

void apply_deny(Value& data, const std::vector<std::string>& deny) {
  DenyNode tree;
  for (const std::string& d : deny) build_deny(tree, d);
  deny_delete(tree, data);
}

void apply_mapping(Value& data, const std::vector<std::pair<std::string, std::string>>& mapping) {
  for (const auto& [from, to_full] : mapping) {
    std::string_view to = first_segment(to_full);
    Value* v = data.find(from);
    if (!v) continue;
    Value moved = std::move(*v);
    data.erase(from);
    if (to == from) continue;  // Lura sets then deletes the same key: the field disappears
    data.set(std::string(to), std::move(moved));
  }
}

}  // namespace

bool decode(std::string_view body, const BackendShaping& shaping, Value& out, std::string& error) {
  const std::string& enc = shaping.encoding;
  if (enc == "string") {
    out = wrap("content", Value(std::string(body)));
    return true;
  }
  if (enc == "no-op") {
    out = Value::object();
    return true;
  }
  if (enc == "xml") {  // krakend-xml: CollectionDecoder wraps the whole map, whatever it holds
    Value v;
    if (!decode_xml(body, v, error)) return false;
    out = shaping.is_collection ? wrap("collection", std::move(v)) : std::move(v);
    return true;
  }
  Value v;
  if (!decode_first(body, v, error)) return false;
  if (enc == "safejson") {
    if (v.is_object()) {
      out = std::move(v);
    } else if (v.is_array()) {
      out = wrap("collection", std::move(v));
    } else {
      out = wrap("content", std::move(v));
    }
    return true;
  }
  // json, and every unknown encoding name (Lura falls back to the json decoder).
  if (shaping.is_collection) {
    if (!v.is_array() && !v.is_null()) {
      error = std::string("json: cannot unmarshal ") + go_decoded_type(v) +
              " into Go value of type []interface {}";
      return false;
    }
    out = wrap("collection", std::move(v));
    return true;
  }
  if (!v.is_object() && !v.is_null()) {
    error = std::string("json: cannot unmarshal ") + go_decoded_type(v) +
            " into Go value of type map[string]interface {}";
    return false;
  }
  out = std::move(v);  // null stays null: Go's nil map
  return true;
}

void shape(Value& data, const BackendShaping& s) {
  if (!s.target.empty()) extract_target(data, s.target);
  if (!s.flatmap.empty()) {
    apply_flatmap(data, s.flatmap);
  } else {
    if (data.is_object() && !data.as_object().empty()) {
      if (!s.allow.empty()) {
        apply_allow(data, s.allow);
      } else if (!s.deny.empty()) {
        apply_deny(data, s.deny);
      }
    }
    if (data.is_object() && !data.as_object().empty() && !s.mapping.empty()) apply_mapping(data, s.mapping);
  }
  if (!s.group.empty()) {
    Object o;
    o.emplace_back(s.group, std::move(data));
    data = Value(std::move(o));
  }
}

bool merge(Value& acc, Value&& part) {
  if (!part.is_object()) return false;
  if (!acc.is_object()) {
    acc = std::move(part);
    return true;
  }
  Object& dst = acc.as_object();
  Object& src = part.as_object();
  if (dst.size() * src.size() <= 256) {
    for (auto& m : src) acc.set(std::move(m.first), std::move(m.second));
    return true;
  }
  dst.reserve(dst.size() + src.size());  // before taking views: no reallocation below
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(dst.size() + src.size());
  for (std::size_t i = 0; i < dst.size(); ++i) index.emplace(dst[i].first, i);
  for (auto& m : src) {
    auto it = index.find(m.first);
    if (it != index.end()) {
      dst[it->second].second = std::move(m.second);
    } else {
      dst.push_back(std::move(m));  // no reallocation (reserved above), so the views stay valid
      index.emplace(dst.back().first, dst.size() - 1);
    }
  }
  return true;
}

bool static_applies(StaticConfig::Strategy s, bool has_response, bool has_error, bool complete) {
  switch (s) {
    case StaticConfig::Strategy::Always:
      return true;
    case StaticConfig::Strategy::Success:
      return !has_error;
    case StaticConfig::Strategy::Complete:
      return !has_error && has_response && complete;
    case StaticConfig::Strategy::Errored:
      return has_error;
    case StaticConfig::Strategy::Incomplete:
      return !has_response || !complete;
  }
  return false;
}

void apply_static(Value& data, const StaticConfig& cfg) {
  if (!data.is_object()) data = Value::object();
  for (const auto& [k, v] : cfg.data.as_object()) data.set(k, v);
}

Value error_details(std::string_view name, int status, std::string_view body, std::string_view content_type) {
  Object inner;
  inner.emplace_back("http_status_code", Value::number(status));
  if (!body.empty()) inner.emplace_back("http_body", Value(std::string(body)));
  if (!content_type.empty()) inner.emplace_back("http_body_encoding", Value(std::string(content_type)));
  Value details(std::move(inner));
  details.set_keep_order(true);
  Object outer;
  outer.emplace_back("error_" + std::string(name), std::move(details));
  return Value(std::move(outer));
}

}  // namespace gw::response
