// KrakenD (Lura) response semantics as pure functions: decode a backend body, shape it (target,
// allow/deny, mapping, group, flatmap), merge parts, inject static data, build error details,
// substitute sequential {respN_x} params and render the final body. No I/O, no exceptions on the
// data path. Config is read once (parse_*), never per request.
//
// "Data" is a json::Value that is an object, or null for Go's nil map (a backend body `null`).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json.h"

namespace gw::response {

// ------------------------------------------------------------------ config

struct FlatmapOp {
  enum class Type { Move, Append, Del };
  Type type = Type::Del;
  std::vector<std::vector<std::string>> args;  // each "a.*.b" argument split on '.'

  static FlatmapOp make(Type t, std::vector<std::string_view> dotted);
};

struct BackendShaping {
  std::string encoding = "json";  // json | safejson | string | xml | no-op (unknown names decode as json)
  bool is_collection = false;
  std::string target;
  std::vector<std::string> allow, deny;
  std::vector<std::pair<std::string, std::string>> mapping;  // config order
  std::string group;
  std::vector<FlatmapOp> flatmap;  // non-empty replaces allow/deny/mapping
};

struct ConfigProblem {
  const json::Value* where = nullptr;  // where->offset() locates it in the config text
  std::string field;                   // e.g. "is_collection", "extra_config.proxy.flatmap_filter[1].args"
  std::string message;
};

// Reads encoding, is_collection, target, allow, deny, mapping, group and
// extra_config.proxy.flatmap_filter of one backend object. Absent fields keep their defaults.
std::optional<ConfigProblem> parse_backend_shaping(const json::Value& backend, BackendShaping& out);

// A flatmap_filter list (backend- or endpoint-level). Like Lura, entries that are not objects or have
// no string "type" are skipped and unknown types do nothing; move/append with fewer than two args
// are reported (KrakenD would panic on the first request).
std::optional<ConfigProblem> parse_flatmap(const json::Value& list, std::vector<FlatmapOp>& out);

struct StaticConfig {
  enum class Strategy { Always, Success, Complete, Errored, Incomplete };
  Strategy strategy = Strategy::Always;
  json::Value data;  // always an object
};

// extra_config.proxy.static. `data` not an object => ignored (out = nullopt), as Lura does;
// a missing or unknown strategy means "always".
std::optional<ConfigProblem> parse_static(const json::Value& proxy_static, std::optional<StaticConfig>& out);

// ------------------------------------------------------------------ data path

// Decodes a backend body per the backend encoding. false + Go-like message on error (empty body,
// syntax error, a json body that is not an object / not an array with is_collection).
// Only the first JSON value is read; trailing bytes are ignored.
bool decode(std::string_view body, const BackendShaping& shaping, json::Value& out, std::string& error);

// Bounds for decode_xml on untrusted bodies (Go has none; mxj recurses per element).
struct XmlLimits {
  std::size_t max_depth = 4096;       // open elements; JSON depth stays under Go's 10000 (2 per level)
  std::size_t max_bytes = 64u << 20;  // body size
};

// krakend-xml (mxj NewMapXmlReader, values kept as strings): {"root":{"-attr":"v","#text":"t",
// "child":"text"|{...}|[...]}}. false + mxj's message ("EOF", "xml.Decoder.Token() - XML syntax error
// on line N: ...") on error. Whatever follows the root element is ignored.
bool decode_xml(std::string_view body, json::Value& out, std::string& error, const XmlLimits& limits = {});

// Go's gzip.Reader over a whole body (Content-Encoding: gzip, which KrakenD's transport undoes before
// decoding): false + Go-like message ("gzip: invalid header", "unexpected EOF") on a bad stream, or
// when the decompressed body would pass `limit` bytes (a small body can expand enormously).
bool gunzip(std::string_view in, std::string& out, std::size_t limit, std::string& error);

// The same gzip.Reader fed piece by piece, for bodies streamed to the client (no-op endpoints):
// output comes in bounded slices, so a small piece that inflates enormously never sits in memory.
class Gunzip {
 public:
  Gunzip();
  ~Gunzip();
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;
  // The next piece of compressed input; it must stay valid until used_up(). The previous piece must be used
  // up.
  void input(std::string_view piece);
  // Decompresses pending input, appending to `out` until the input is used up or `out` holds `max`
  // bytes. false + a Go-like message on a corrupt stream.
  bool read(std::string& out, std::size_t max, std::string& error);
  bool used_up() const;
  // After the last piece is used up: false ("unexpected EOF") unless the input ended where a member ended.
  bool finish(std::string& error) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// target -> allow|deny -> mapping -> group (flatmap, when configured, replaces allow/deny/mapping).
void shape(json::Value& data, const BackendShaping& shaping);
void apply_flatmap(json::Value& data, const std::vector<FlatmapOp>& ops);

// Shallow root merge, `part` overwrites colliding keys. Returns false when `part` is a nil map
// (null): Lura skips it and the merged response is then incomplete.
bool merge(json::Value& acc, json::Value&& part);

bool static_applies(StaticConfig::Strategy s, bool has_response, bool has_error, bool complete);
// Shallow overwrite; a null (nil) data becomes an object first.
void apply_static(json::Value& data, const StaticConfig& cfg);

// {"error_<name>":{"http_status_code":N,"http_body":...,"http_body_encoding":...}} with Go struct
// field order; http_body and http_body_encoding omitted when empty.
json::Value error_details(std::string_view name, int status, std::string_view body,
                          std::string_view content_type);

// ------------------------------------------------------------------ output

struct Rendered {
  std::string_view content_type;  // static storage
  std::string body;
};

// The renderer KrakenD picks: the endpoint output_encoding if it names a renderer, else (single
// backend) the backend encoding if it names one, else json. Result is one of json, json-collection,
// string, xml, yaml, negotiate, no-op.
std::string_view effective_output_encoding(std::string_view output_encoding,
                                           const std::vector<std::string_view>& backend_encodings);

// Renders data (nullptr = nil response) with json | json-collection | string | xml | yaml |
// negotiate (Accept header decides). Unknown names render json. no-op is the caller's job.
Rendered render(std::string_view output_encoding, const json::Value* data, std::string_view accept_header);

// Replaces {respN_a.b} in a sequential backend's url_pattern with values from the previous
// backends' shaped responses (previous[N], nullptr = not available). Strings as is, numbers as their
// literal, arrays joined with ',', null as <nil>, objects like Go's %v. Unresolved placeholders stay.
std::string substitute_sequential(std::string_view url_pattern,
                                  const std::vector<const json::Value*>& previous);

// Go fmt "%v" of a decoded JSON value (used by the sequential proxy for params).
void append_go_value(const json::Value& v, std::string& out);

}  // namespace gw::response
