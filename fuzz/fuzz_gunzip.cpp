// response::Gunzip (no-op bodies, streamed) against the one-shot gunzip (decoded bodies): fed the same
// bytes in pieces of any size and read in bounded slices, it must never crash, never hand out a
// slice over its bound, and agree with the one-shot reader on the outcome and the bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "response/response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = 1 + data[0];       // input piece size, 1..256
  const std::size_t slice = 1 + data[1] * 64;  // output slice bound, 1..16321
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  constexpr std::size_t kLimit = 1 << 20;

  std::string whole, whole_error;
  const bool whole_ok = gw::response::gunzip(body, whole, kLimit, whole_error);

  gw::response::Gunzip stream;
  std::string streamed, error;
  bool ok = true;
  for (std::size_t at = 0; ok && at < body.size() && streamed.size() <= kLimit; at += piece) {
    stream.input(body.substr(at, piece));
    while (ok && !stream.used_up() && streamed.size() <= kLimit) {
      std::string out;
      ok = stream.read(out, slice, error);
      if (out.size() > slice) std::abort();
      streamed += out;
    }
  }
  if (streamed.size() > kLimit) return 0;  // the one-shot reader stopped at its limit: nothing to compare
  if (ok) ok = stream.finish(error);
  if (ok != whole_ok) std::abort();
  if (ok && streamed != whole) std::abort();
  return 0;
}
