// krakend.json loading: any input is either a Service or a ConfigError, never a crash.
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const gw::config::Environment env{{"KRAKEND_TIMEOUT", "2s"}};
  try {
    auto service = gw::config::load_text(text, "fuzz.json", env);
    (void)service.endpoints.size();
  } catch (const gw::config::ConfigError&) {
  }
  return 0;
}
