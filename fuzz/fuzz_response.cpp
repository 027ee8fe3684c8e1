// decode -> shape -> flatmap -> merge -> static -> render with a fuzzed backend config.
// Input: <config JSON>\0<body>\0<body2>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "response/response.h"

using namespace gw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t z1 = in.find('\0');
  if (z1 == std::string_view::npos) return 0;
  std::string_view cfg_text = in.substr(0, z1);
  std::string_view rest = in.substr(z1 + 1);
  std::size_t z2 = rest.find('\0');
  std::string_view body1 = rest.substr(0, z2);
  std::string_view body2 = z2 == std::string_view::npos ? std::string_view{} : rest.substr(z2 + 1);

  auto cfg = json::parse(cfg_text);
  if (!cfg) return 0;
  response::BackendShaping shaping;
  if (response::parse_backend_shaping(*cfg, shaping)) return 0;
  std::vector<response::FlatmapOp> endpoint_ops;
  std::optional<response::StaticConfig> stat;
  if (const json::Value* e = cfg->find("endpoint_flatmap")) response::parse_flatmap(*e, endpoint_ops);
  if (const json::Value* s = cfg->find("static")) response::parse_static(*s, stat);

  json::Value acc, a, b;
  std::string err;
  bool ok1 = response::decode(body1, shaping, a, err);
  bool ok2 = response::decode(body2, shaping, b, err);
  if (ok1) response::shape(a, shaping);
  if (ok2) response::shape(b, shaping);
  std::vector<const json::Value*> prev{ok1 ? &a : nullptr};
  if (const json::Value* u = cfg->find("url"); u && u->is_string())
    (void)response::substitute_sequential(u->as_string(), prev);
  if (ok1) response::merge(acc, std::move(a));
  if (ok2) response::merge(acc, std::move(b));
  response::merge(acc, response::error_details("x", 500, body2, "text/plain"));
  response::apply_flatmap(acc, endpoint_ops);
  if (stat && response::static_applies(stat->strategy, true, !ok1, ok1 && ok2))
    response::apply_static(acc, *stat);
  for (std::string_view enc : {"json", "json-collection", "string", "xml", "yaml", "negotiate"}) {
    auto r = response::render(enc, &acc, body2.substr(0, 64));
    if (enc == "json" && !json::parse(r.body)) std::abort();
  }
  return 0;
}
