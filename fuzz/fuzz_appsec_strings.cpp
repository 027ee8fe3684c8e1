// AppSec string primitives on untrusted bytes: every transformer (alone, then all chained) and both
// injection detectors must never crash and keep outputs within their bounds (4x the input per
// transformer, a fingerprint of at most 5 token classes).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "appsec/detail.h"

namespace {
using gw::appsec::detail::Transformer;
constexpr int kLast = static_cast<int>(Transformer::url_querystring);

void detect(std::string_view value) {
  if (const auto fingerprint = gw::appsec::detail::sqli_fingerprint(value)) {
    if (fingerprint->empty() || fingerprint->size() > 5) std::abort();
  }
  (void)gw::appsec::detail::looks_like_xss(value);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  detect(input);
  std::string chained = input;
  for (int k = 0; k <= kLast; ++k) {
    const auto t = static_cast<Transformer>(k);
    std::string alone = input;
    gw::appsec::detail::transform(t, alone);
    if (alone.size() > 4 * input.size() + 4) std::abort();
    // may_change may only say "no" when the transformer really leaves the input alone.
    if (!gw::appsec::detail::may_change(t, input) && alone != input) std::abort();
    const std::size_t before = chained.size();
    gw::appsec::detail::transform(t, chained);
    if (chained.size() > 4 * before + 4) std::abort();
    if (t == Transformer::base64_encode) chained.resize(chained.size() * 3 / 4);  // keep the chain bounded
  }
  detect(chained);
  return 0;
}
