#include "router/router.h"

#include <algorithm>
#include <cctype>

namespace gw::router {

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> statics;
  std::unique_ptr<Node> param;
  std::string param_name;
  int handler = -1;
  std::string full_path;  // for conflict messages
};

namespace {

// "/a/b/" -> ["a", "b", ""]; "/" -> [""].
template <typename F>
void for_each_segment(std::string_view path, F&& f) {
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      f(path.substr(start));
      return;
    }
    f(path.substr(start, slash - start));
    start = slash + 1;
  }
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  for_each_segment(path, [&](std::string_view s) { out.push_back(s); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct Walker {
  const std::vector<std::string_view>& segments;
  bool case_insensitive;
  Match* match;                          // params are recorded here when non-null
  std::vector<std::string_view>* names;  // canonical segment names (case-insensitive walk)

  template <typename NodeT>
  const NodeT* walk(const NodeT* node, std::size_t i, std::size_t depth) const {
    if (i == segments.size()) return node->handler >= 0 ? node : nullptr;
    std::string_view seg = segments[i];
    for (const auto& [name, child] : node->statics) {
      if (case_insensitive ? iequals(name, seg) : name == seg) {
        if (names) names->push_back(name);
        if (const NodeT* found = walk<NodeT>(child.get(), i + 1, depth)) return found;
        if (names) names->pop_back();
      }
    }
    if (node->param && !seg.empty() && depth < kMaxParams) {
      if (names) names->push_back(seg);
      if (match) match->params[depth] = {node->param_name, seg};
      if (const NodeT* found = walk<NodeT>(node->param.get(), i + 1, depth + 1)) {
        if (match && match->param_count < depth + 1) match->param_count = depth + 1;
        return found;
      }
      if (names) names->pop_back();
    }
    return nullptr;
  }
};

}  // namespace

std::string_view Match::param(std::string_view name) const {
  for (std::size_t i = 0; i < param_count; ++i)
    if (params[i].first == name) return params[i].second;
  return {};
}

Router::Router(Options options) : options_(options) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

const Router::Tree* Router::tree(std::string_view method) const {
  for (const auto& t : trees_)
    if (t.method == method) return &t;
  return nullptr;
}

void Router::add(std::string_view method, std::string_view path, int handler) {
  Tree* t = const_cast<Tree*>(tree(method));
  if (!t) {
    trees_.push_back({std::string(method), std::make_unique<Node>()});
    t = &trees_.back();
  }
  Node* node = t->root.get();
  std::string prefix;
  for (std::string_view seg : split(path)) {
    std::string name;
    if (!seg.empty() && seg[0] == ':')
      name = seg.substr(1);
    else if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
      name = seg.substr(1, seg.size() - 2);
    if (!name.empty()) {
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw RouteConflict("':" + name + "' in new path '" + std::string(path) +
                            "' conflicts with existing wildcard ':" + node->param_name +
                            "' in existing prefix '" + prefix + "/:" + node->param_name + "'");
      }
      prefix += "/:" + name;
      node = node->param.get();
      continue;
    }
    prefix += "/" + std::string(seg);
    auto it =
        std::find_if(node->statics.begin(), node->statics.end(), [&](auto& c) { return c.first == seg; });
    if (it == node->statics.end()) {
      node->statics.emplace_back(std::string(seg), std::make_unique<Node>());
      it = std::prev(node->statics.end());
    }
    node = it->second.get();
  }
  if (node->handler >= 0)
    throw RouteConflict("handlers are already registered for path '" + std::string(path) + "'");
  node->handler = handler;
  node->full_path = std::string(path);
}

Match Router::find(std::string_view method, std::string_view path) const {
  Match m;
  const auto segments = split(path);
  const Tree* t = tree(method);
  if (t) {
    if (const Node* n = Walker{segments, false, &m, nullptr}.walk(t->root.get(), 0, 0)) {
      m.kind = Match::Kind::Found;
      m.handler = n->handler;
      return m;
    }
    m.param_count = 0;
    const int code = method == "GET" ? 301 : 307;
    if (path != "/") {
      if (options_.redirect_trailing_slash) {
        std::string alt(path);
        if (alt.size() > 1 && alt.back() == '/')
          alt.pop_back();
        else
          alt.push_back('/');
        const auto alt_segments = split(alt);
        if (Walker{alt_segments, false, nullptr, nullptr}.walk(t->root.get(), 0, 0)) {
          m.kind = Match::Kind::Redirect;
          m.redirect_status = code;
          m.location = std::move(alt);
          return m;
        }
      }
      if (options_.redirect_fixed_path) {
        std::string cleaned = clean_path(path);
        const auto clean_segments = split(cleaned);
        std::vector<std::string_view> names;
        const Node* n = Walker{clean_segments, true, nullptr, &names}.walk(t->root.get(), 0, 0);
        if (!n && options_.redirect_trailing_slash) {
          // gin also tries the cleaned path with the trailing slash fixed.
          std::string alt = cleaned;
          if (alt.size() > 1 && alt.back() == '/')
            alt.pop_back();
          else
            alt.push_back('/');
          const auto alt_segments = split(alt);
          names.clear();
          n = Walker{alt_segments, true, nullptr, &names}.walk(t->root.get(), 0, 0);
        }
        if (n) {
          std::string location;
          for (auto s : names) {
            location += '/';
            location.append(s);
          }
          if (location.empty()) location = "/";
          m.kind = Match::Kind::Redirect;
          m.redirect_status = code;
          m.location = std::move(location);
          return m;
        }
      }
    }
  }
  if (options_.handle_method_not_allowed) {
    m.allow = allowed_methods(path);
    if (!m.allow.empty()) {
      m.kind = Match::Kind::MethodNotAllowed;
      return m;
    }
  }
  m.kind = Match::Kind::NotFound;
  return m;
}

std::string Router::allowed_methods(std::string_view path) const {
  const auto segments = split(path);
  std::vector<std::string_view> methods;
  for (const auto& t : trees_)
    if (Walker{segments, false, nullptr, nullptr}.walk(t.root.get(), 0, 0)) methods.push_back(t.method);
  std::sort(methods.begin(), methods.end());
  std::string out;
  for (auto m : methods) {
    if (!out.empty()) out += ", ";
    out.append(m);
  }
  return out;
}

std::string clean_path(std::string_view p) {
  if (p.empty()) return "/";
  std::vector<std::string_view> parts;
  for_each_segment(p, [&](std::string_view s) {
    if (s.empty() || s == ".") return;
    if (s == "..") {
      if (!parts.empty()) parts.pop_back();
      return;
    }
    parts.push_back(s);
  });
  std::string out;
  for (auto s : parts) {
    out += '/';
    out.append(s);
  }
  if (out.empty()) return "/";
  // Keep a trailing slash the way path.Clean + gin's CleanPath do.
  if (p.back() == '/' && out != "/") out += '/';
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

}  // namespace gw::router
