// Route table with gin's semantics (what KrakenD users rely on): one tree per method, ":param"
// segments, static beats param, trailing-slash and fixed-path (clean + case-insensitive) redirects,
// 405 with Allow when another method has the path. Built once; lookups do not allocate unless they
// produce a redirect or a 405.
#pragma once

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gw::router {

class RouteConflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  bool redirect_trailing_slash = true;
  bool redirect_fixed_path = true;
  bool handle_method_not_allowed = true;
};

constexpr std::size_t kMaxParams = 16;

struct Match {
  enum class Kind { Found, NotFound, MethodNotAllowed, Redirect } kind = Kind::NotFound;
  int handler = -1;
  std::size_t param_count = 0;
  // Names live in the router; values are views into the path passed to find().
  std::array<std::pair<std::string_view, std::string_view>, kMaxParams> params{};
  int redirect_status = 0;  // 301 for GET, 307 otherwise
  std::string location;     // redirect target path (caller appends the query)
  std::string allow;        // "GET, POST" for 405

  std::string_view param(std::string_view name) const;
};

class Router {
 public:
  explicit Router(Options options = {});
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // `path` in gin form ("/users/:id") or KrakenD form ("/users/{id}"). Throws RouteConflict for a
  // duplicate route or two different param names at the same position (gin panics on those).
  void add(std::string_view method, std::string_view path, int handler);

  // `path` must already be percent-decoded (gin matches on the decoded path).
  Match find(std::string_view method, std::string_view path) const;

  // Methods registered for `path` (exact match), sorted, ", "-joined; empty when none.
  std::string allowed_methods(std::string_view path) const;

 private:
  struct Node;
  struct Tree {
    std::string method;
    std::unique_ptr<Node> root;
  };
  const Tree* tree(std::string_view method) const;
  Options options_;
  std::vector<Tree> trees_;
};

// Go's path.Clean semantics for the fixed-path redirect: collapses "//", resolves "." and "..".
std::string clean_path(std::string_view path);

// Value of a hex digit, or -1: shared by every percent-decoder on the request path.
int hex_digit(char c);

// Percent-decodes a URL path (not '+'); false on an invalid escape.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace gw::router
