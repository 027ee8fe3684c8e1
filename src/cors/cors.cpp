#include "cors/cors.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace gw::cors {
namespace {

constexpr std::string_view kVaryPreflight =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
constexpr std::string_view kVaryPreflightPrivate =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network";
// rs/cors's SortedSet.Accepts tolerances (internal/sortedset.go).
constexpr std::size_t kMaxOwsBytes = 1;
constexpr int kMaxEmptyElements = 16;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Go lower-cases with strings.ToLower (Unicode); origins and header names are ASCII in practice,
// so ASCII folding is used and other bytes compare exactly.
std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// `pattern` is already lower-case; `s` is folded on the fly so nothing is allocated.
bool equals_folded(std::string_view pattern, std::string_view s) {
  if (pattern.size() != s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (pattern[i] != lower(s[i])) return false;
  return true;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// rs/cors trims at most kMaxOwsBytes of spaces/tabs per side; more than that with anything left
// over rejects the whole list (its trimRightOWS/trimLeftOWS loop shape, reproduced).
bool trim_ows(std::string_view& s) {
  std::size_t n = 0;
  while (!s.empty()) {
    if (n > kMaxOwsBytes) return false;
    if (!is_ows(s.back())) break;
    s.remove_suffix(1);
    ++n;
  }
  n = 0;
  while (!s.empty()) {
    if (n > kMaxOwsBytes) return false;
    if (!is_ows(s.front())) break;
    s.remove_prefix(1);
    ++n;
  }
  return true;
}

bool is_token_byte(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Go's fmt "%v" of an http.Header holding exactly `headers` (names unique and sorted).
void append_header_map(std::string& out, const std::vector<Header>& headers) {
  out += "map[";
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i) out += ' ';
    out += headers[i].name;
    out += ":[";
    out += headers[i].value;
    out += ']';
  }
  out += ']';
}

class Log {
 public:
  explicit Log(std::string* out) : out_(out) {}
  // Each call is one rs/cors Printf; the arguments are concatenated.
  template <typename... Parts>
  void line(const Parts&... parts) {
    if (!out_) return;
    if (!out_->empty()) *out_ += '\n';
    (out_->append(parts), ...);
  }
  std::string* target() const { return out_; }

 private:
  std::string* out_;
};

void add(Outcome& out, std::string_view name, std::string_view value) {
  out.headers.push_back(Header{std::string(name), std::string(value)});
}

}  // namespace

std::string canonical_header_key(std::string_view name) {
  std::string out(name);
  for (char c : out)
    if (!is_token_byte(static_cast<unsigned char>(c))) return out;
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    else if (!upper && c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    upper = c == '-';
  }
  return out;
}

Policy::Policy(const config::Cors& options)
    : credentials_(options.allow_credentials),
      private_network_(options.allow_private_network),
      passthrough_(options.options_passthrough),
      debug_(options.debug) {
  // krakend-cors: an empty allow_origins is ["*"]; rs/cors: a "*" anywhere means all origins.
  origins_all_ = options.allow_origins.empty();
  for (const auto& configured : options.allow_origins) {
    std::string origin = lowered(configured);
    if (origin == "*") {
      origins_all_ = true;
      origins_.clear();
      wildcards_.clear();
      break;
    }
    if (auto star = origin.find('*'); star != std::string::npos)
      wildcards_.push_back(Wildcard{origin.substr(0, star), origin.substr(star + 1)});
    else
      origins_.push_back(std::move(origin));
  }

  // krakend-cors: an empty allow_headers is ["*"] (rs/cors's own default list never applies).
  headers_all_ = options.allow_headers.empty() ||
                 std::find(options.allow_headers.begin(), options.allow_headers.end(), "*") !=
                     options.allow_headers.end();
  if (!headers_all_) {
    for (const auto& h : options.allow_headers) headers_.push_back(lowered(h));
    std::sort(headers_.begin(), headers_.end());  // bytewise, as Go's sort.Strings
    headers_.erase(std::unique(headers_.begin(), headers_.end()), headers_.end());
    for (const auto& h : headers_) longest_header_ = std::max(longest_header_, h.size());
  }

  // rs/cors: empty = the simple methods; otherwise kept as written (no upper-casing).
  methods_ =
      options.allow_methods.empty() ? std::vector<std::string>{"GET", "POST", "HEAD"} : options.allow_methods;

  // rs/cors: any list (even [""]) sends the header, canonical names joined with ", ".
  expose_set_ = !options.expose_headers.empty();
  for (std::size_t i = 0; i < options.expose_headers.size(); ++i) {
    if (i) expose_ += ", ";
    expose_ += canonical_header_key(options.expose_headers[i]);
  }

  // krakend-cors: int(MaxAge.Seconds()) truncates toward zero; rs/cors: >0 sent as is, <0 as "0".
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.max_age).count();
  if (seconds != 0) max_age_ = std::to_string(seconds > 0 ? seconds : 0);

  // rs/cors: 0 means 204 (krakend-cors's mux wrapper, the one CE uses, passes it through).
  success_status_ =
      options.options_success_status == 0 ? 204u : static_cast<unsigned>(options.options_success_status);
  preflight_vary_ = private_network_ ? kVaryPreflightPrivate : kVaryPreflight;
}

bool Policy::origin_allowed(std::string_view origin) const {
  if (origins_all_) return true;
  for (const auto& o : origins_)
    if (equals_folded(o, origin)) return true;
  for (const auto& w : wildcards_) {
    if (origin.size() < w.prefix.size() + w.suffix.size()) continue;
    if (equals_folded(w.prefix, origin.substr(0, w.prefix.size())) &&
        equals_folded(w.suffix, origin.substr(origin.size() - w.suffix.size())))
      return true;
  }
  return false;
}

bool Policy::method_allowed(std::string_view method) const {
  if (methods_.empty()) return false;
  if (method == "OPTIONS") return true;  // rs/cors always allows OPTIONS
  return std::find(methods_.begin(), methods_.end(), method) != methods_.end();
}

// rs/cors's SortedSet.Accepts: every name must be allowed, written exactly in lower case,
// in strictly increasing (bytewise) order without repeats; empty elements are tolerated.
bool Policy::headers_accepted(std::string_view list) const {
  const std::size_t max_len = kMaxOwsBytes + longest_header_ + kMaxOwsBytes + 1;
  std::ptrdiff_t last = -1;
  int empties = 0;
  for (;;) {
    // Only the first max_len bytes are searched for a comma, as rs/cors does; a longer element
    // can never name an allowed header anyway.
    std::size_t comma = list.substr(0, std::min(list.size(), max_len)).find(',');
    bool more = comma != std::string_view::npos;
    std::string_view name = more ? list.substr(0, comma) : list;
    list = more ? list.substr(comma + 1) : std::string_view{};
    if (!trim_ows(name)) return false;
    if (name.empty()) {
      if (++empties > kMaxEmptyElements) return false;
    } else {
      auto it = std::lower_bound(headers_.begin(), headers_.end(), name);
      if (it == headers_.end() || *it != name) return false;
      std::ptrdiff_t pos = it - headers_.begin();
      if (pos <= last) return false;
      last = pos;
    }
    if (!more) return true;
  }
}

void Policy::preflight(const RequestView& request, Outcome& out) const {
  Log log(debug_ ? &out.debug : nullptr);
  log.line("Handler: Preflight request");
  out.answer_now = !passthrough_;
  out.status = out.answer_now ? success_status_ : 0;

  // Go's Header.Get: an empty Origin is no Origin.
  const std::string_view origin = request.has_origin ? request.origin : std::string_view{};
  bool ok = false;
  if (origin.empty()) {
    log.line("  Preflight aborted: empty origin");
  } else if (!origin_allowed(origin)) {
    log.line("  Preflight aborted: origin '", origin, "' not allowed");
  } else if (!method_allowed(request.request_method)) {
    log.line("  Preflight aborted: method '", request.request_method, "' not allowed");
  } else if (!headers_all_ && !request.request_headers.empty() &&
             !headers_accepted(request.request_headers)) {
    log.line("  Preflight aborted: headers '[", request.request_headers, "]' not allowed");
  } else {
    ok = true;
  }
  if (!ok) {  // a denied preflight still gets its Vary, and the same status
    add(out, "Vary", preflight_vary_);
    return;
  }

  // Sorted by name; the requested method and headers are echoed verbatim.
  if (credentials_) add(out, "Access-Control-Allow-Credentials", "true");
  if (!request.request_headers.empty()) add(out, "Access-Control-Allow-Headers", request.request_headers);
  add(out, "Access-Control-Allow-Methods", request.request_method);
  // With "*" rs/cors sends "*" even when credentials are allowed (browsers then refuse).
  add(out, "Access-Control-Allow-Origin", origins_all_ ? std::string_view("*") : origin);
  if (private_network_ && request.request_private_network)
    add(out, "Access-Control-Allow-Private-Network", "true");
  if (!max_age_.empty()) add(out, "Access-Control-Max-Age", max_age_);
  add(out, "Vary", preflight_vary_);
  if (std::string* text = log.target()) {
    log.line("  Preflight response headers: ");
    append_header_map(*text, out.headers);
  }
}

void Policy::actual(const RequestView& request, Outcome& out) const {
  Log log(debug_ ? &out.debug : nullptr);
  log.line("Handler: Actual request");
  const std::string_view origin = request.has_origin ? request.origin : std::string_view{};
  bool ok = false;
  if (origin.empty()) {
    log.line("  Actual request no headers added: missing origin");
  } else if (!origin_allowed(origin)) {
    log.line("  Actual request no headers added: origin '", origin, "' not allowed");
  } else if (!method_allowed(request.method)) {
    // Not in the CORS spec for simple requests, but rs/cors checks the actual method too.
    log.line("  Actual request no headers added: method '", request.method, "' not allowed");
  } else {
    ok = true;
  }
  if (!ok) {  // Vary: Origin goes on every response, with or without an Origin
    add(out, "Vary", "Origin");
    return;
  }
  if (credentials_) add(out, "Access-Control-Allow-Credentials", "true");
  add(out, "Access-Control-Allow-Origin", origins_all_ ? std::string_view("*") : origin);
  if (expose_set_) add(out, "Access-Control-Expose-Headers", expose_);
  add(out, "Vary", "Origin");
  if (std::string* text = log.target()) {
    log.line("  Actual response added headers: ");
    append_header_map(*text, out.headers);
  }
}

Outcome Policy::evaluate(const RequestView& request) const {
  Outcome out;
  out.headers.reserve(7);
  // rs/cors: a preflight is exactly method "OPTIONS" with a non-empty Access-Control-Request-Method;
  // any other OPTIONS is an actual request that reaches the endpoint.
  if (request.method == "OPTIONS" && !request.request_method.empty())
    preflight(request, out);
  else
    actual(request, out);
  return out;
}

}  // namespace gw::cors
