// Parser + encoder: never crash, and encode(parse(x)) is a fixed point of parse/encode.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "json/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gw::json::ParseError err;
  gw::json::ParseOptions opt;
  opt.allow_trailing = size > 0 && (data[0] & 1);
  auto v = gw::json::parse(text, &err, opt);
  if (!v) {
    if (err.offset > size) std::abort();
    return 0;
  }
  std::string once = gw::json::encode(*v);
  auto again = gw::json::parse(once);
  if (!again) std::abort();                            // our output must be valid JSON
  if (gw::json::encode(*again) != once) std::abort();  // and stable
  if (!(*again == *v)) std::abort();
  return 0;
}
