// Backend "xml" decoding of untrusted bodies: never crash, stay within the bounds, and hand back
// either mxj's single-root map (which must render and encode) or an error message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "response/response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  gw::response::XmlLimits limits;
  limits.max_depth = 64;  // small bounds so the fuzzer reaches them
  limits.max_bytes = 1 << 16;
  gw::json::Value v;
  std::string error;
  if (!gw::response::decode_xml(body, v, error, limits)) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (!v.is_object() || v.as_object().size() != 1) std::abort();
  (void)gw::json::encode(v);
  (void)gw::response::render("xml", &v, "");
  return 0;
}
