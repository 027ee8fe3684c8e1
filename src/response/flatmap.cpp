// flatmap_filter (move / append / del with '*' wildcards). KrakenD runs these on a labelled tree
// (krakend/flatmap "tree" package) whose quirks are visible in responses: array elements keep their
// original index labels after deletions, a same-depth move only relabels the last segment, a
// promotion attaches to the deepest existing ancestor, and a container emptied by deletions
// becomes null. The same tree model is used here so the output matches.
#include <memory>

#include "response/response.h"

namespace gw::response {
namespace {

using json::Value;
using Path = std::vector<std::string>;
constexpr std::string_view kWildcard = "*";

struct Node;
struct Edge {
  std::string label;
  std::unique_ptr<Node> n;
};
struct Node {
  Value value;  // leaf value; a container that had children keeps null here
  bool is_collection = false;
  std::vector<Edge> edges;
};

struct Tree {
  Node root;
  bool maybe_duplicates = false;  // set once an op may give two sibling edges the same label

  void add(Node& n, const std::string* ks, std::size_t len, Value&& v) {
    if (len == 0) {
      flatten(n, std::move(v));
      return;
    }
    for (auto& e : n.edges) {
      if (e.label == ks[0]) {
        add(*e.n, ks + 1, len - 1, std::move(v));
        return;
      }
    }
    n.edges.push_back(Edge{ks[0], std::make_unique<Node>()});
    add(*n.edges.back().n, ks + 1, len - 1, std::move(v));
  }

  void flatten(Node& n, Value&& v) {
    if (v.is_object()) {
      n.is_collection = false;
      if (v.as_object().empty()) {
        n.value = std::move(v);
        return;
      }
      n.edges.reserve(n.edges.size() + v.as_object().size());
      for (auto& m : v.as_object()) add(n, &m.first, 1, std::move(m.second));
    } else if (v.is_array()) {
      n.is_collection = true;
      if (v.as_array().empty()) {
        n.value = std::move(v);
        return;
      }
      n.edges.reserve(n.edges.size() + v.as_array().size());
      std::size_t i = 0;
      for (auto& e : v.as_array()) {
        std::string label = std::to_string(i++);
        add(n, &label, 1, std::move(e));
      }
    } else {
      n.is_collection = false;
      n.value = std::move(v);
    }
  }

  Value expand(Node& n) {
    if (n.edges.empty()) return std::move(n.value);
    if (n.is_collection) {
      json::Array a;
      a.reserve(n.edges.size());
      for (auto& e : n.edges) a.push_back(expand(*e.n));
      return Value(std::move(a));
    }
    Value o = Value::object();
    o.as_object().reserve(n.edges.size());
    for (auto& e : n.edges) {
      if (maybe_duplicates) {
        o.set(std::move(e.label), expand(*e.n));  // a later edge wins, like a Go map assignment
      } else {
        o.as_object().emplace_back(std::move(e.label), expand(*e.n));
      }
    }
    return o;
  }

  // Non-destructive Get (used by append); null stands for Go's nil.
  Value get(const Node& n, const std::string* ks, std::size_t len) const {
    if (n.edges.empty() && len > 0) return Value();
    if (len == 0) return copy(n);
    if (ks[0] == kWildcard) {
      json::Array a;
      for (const auto& e : n.edges) a.push_back(get(*e.n, ks + 1, len - 1));
      return Value(std::move(a));
    }
    for (const auto& e : n.edges)
      if (e.label == ks[0]) return get(*e.n, ks + 1, len - 1);
    return Value();
  }

  Value copy(const Node& n) const {
    if (n.edges.empty()) return n.value;
    if (n.is_collection) {
      json::Array a;
      for (const auto& e : n.edges) a.push_back(copy(*e.n));
      return Value(std::move(a));
    }
    Value o = Value::object();
    for (const auto& e : n.edges) o.set(e.label, copy(*e.n));
    return o;
  }

  void del(Node& n, const std::string* ks, std::size_t len) {
    if (len == 0 || n.edges.empty()) return;
    if (ks[0] == kWildcard) {
      if (len > 1) {
        for (auto& e : n.edges) del(*e.n, ks + 1, len - 1);
      } else {
        n.edges.clear();
      }
      return;
    }
    for (auto it = n.edges.begin(); it != n.edges.end(); ++it) {
      if (it->label != ks[0]) continue;
      if (len == 1) {
        n.edges.erase(it);
      } else {
        del(*it->n, ks + 1, len - 1);
      }
      return;
    }
  }

  struct Candidate {
    Node* n;
    Path p;
  };

  void move(const Path& src, const Path& dst) {
    std::vector<Candidate> next{{&root, {}}};
    for (std::size_t s = 0; s + 1 < src.size(); ++s) {
      std::vector<Candidate> acc;
      for (auto& c : next) {
        for (auto& e : c.n->edges) {
          if (src[s] != kWildcard && e.label != src[s]) continue;
          Path p = c.p;
          p.push_back(e.label);
          acc.push_back({e.n.get(), std::move(p)});
          if (src[s] != kWildcard) break;
        }
      }
      next = std::move(acc);
    }
    const std::string& last = src.back();
    const bool relabel = src.size() == dst.size();
    std::vector<std::pair<Candidate*, Edge>> moving;
    for (auto& c : next) {
      for (auto it = c.n->edges.begin(); it != c.n->edges.end(); ++it) {
        if (it->label != last) continue;
        if (relabel) {
          // Go's winner depends on map order; the moved value winning is the only stable choice.
          it->label = dst.back();
          auto& edges = c.n->edges;
          for (auto o = edges.begin(); o != edges.end(); ++o) {
            if (o != it && o->label == it->label) {
              edges.erase(o);
              break;
            }
          }
        } else {
          moving.emplace_back(&c, std::move(*it));
          c.n->edges.erase(it);
        }
        break;
      }
    }
    if (relabel || moving.empty()) return;
    maybe_duplicates = true;
    if (src.size() > dst.size()) {  // promotion
      for (auto& [cand, edge] : moving) {
        Node* parent = &root;
        for (std::size_t i = 0; i + 1 < dst.size(); ++i) {
          const std::string& l = dst[i] == kWildcard ? cand->p[i] : dst[i];
          Node* found = nullptr;
          for (auto& e : parent->edges) {
            if (e.label == l) {
              found = e.n.get();
              break;
            }
          }
          if (!found) break;
          parent = found;
        }
        edge.label = dst.back();
        parent->edges.push_back(std::move(edge));
      }
      return;
    }
    // embedding: the remaining destination segments are created under the source's parent
    for (auto& [cand, edge] : moving) {
      Node* at = cand->n;
      for (std::size_t i = src.size() - 1; i + 1 < dst.size(); ++i) {
        Node* found = nullptr;
        for (auto& e : at->edges) {
          if (e.label == dst[i]) {
            found = e.n.get();
            break;
          }
        }
        if (!found) {
          at->edges.push_back(Edge{dst[i], std::make_unique<Node>()});
          found = at->edges.back().n.get();
        }
        at = found;
      }
      edge.label = dst.back();
      at->edges.push_back(std::move(edge));
    }
  }

  void append(const Path& src, const Path& dst) {
    Value from = get(root, src.data(), src.size());
    if (!from.is_array()) return;
    Value to = get(root, dst.data(), dst.size());
    if (!to.is_array()) return;
    auto& a = to.as_array();
    a.reserve(a.size() + from.as_array().size());
    for (auto& e : from.as_array()) a.push_back(std::move(e));
    add(root, dst.data(), dst.size(), std::move(to));
    del(root, src.data(), src.size());
  }
};

}  // namespace

void apply_flatmap(Value& data, const std::vector<FlatmapOp>& ops) {
  if (ops.empty()) return;
  Tree t;
  t.flatten(t.root, std::move(data));
  for (const auto& op : ops) {
    switch (op.type) {
      case FlatmapOp::Type::Move:
        if (op.args.size() >= 2 && !op.args[0].empty() && !op.args[1].empty()) t.move(op.args[0], op.args[1]);
        break;
      case FlatmapOp::Type::Append:
        if (op.args.size() >= 2) t.append(op.args[0], op.args[1]);
        break;
      case FlatmapOp::Type::Del:
        for (const auto& a : op.args) t.del(t.root, a.data(), a.size());
        break;
    }
  }
  data = t.expand(t.root);
  if (!data.is_object()) data = Value();  // the root is a map or nil
}

}  // namespace gw::response
