// Content-Encoding: gzip bodies from backends. KrakenD's Go transport asks for gzip and undoes it
// before the body is decoded; this is that step, with zlib.
#include <zlib.h>

#include "response/response.h"

namespace gw::response {

bool gunzip(std::string_view in, std::string& out, std::size_t limit, std::string& error) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {  // 16: a gzip wrapper, not zlib's
    error = "gzip: cannot initialise";
    return false;
  }
  struct End {
    z_stream& z;
    ~End() { inflateEnd(&z); }
  } end{z};
  out.clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  bool started = false;  // a member's header was accepted
  for (;;) {
    if (out.size() == out.capacity()) out.reserve(std::max<std::size_t>(4096, 2 * out.size()));
    const std::size_t at = out.size();
    const std::size_t room = std::min(out.capacity() - at, limit + 1 - at);
    out.resize(at + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.resize(at + (room - z.avail_out));
    if (out.size() > limit) {
      error = "gzip: body over " + std::to_string(limit) + " bytes once decompressed";
      return false;
    }
    if (rc == Z_STREAM_END) {
      // Go's gzip.Reader reads concatenated members (multistream) until the input ends.
      if (z.avail_in == 0) return true;
      inflateReset(&z);
      started = false;
      continue;
    }
    if (rc == Z_DATA_ERROR) {
      error = started || z.total_out > 0 ? "flate: corrupt input" : "gzip: invalid header";
      return false;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {  // the input ended inside a member
      error = "unexpected EOF";
      return false;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = "gzip: " + std::string(z.msg ? z.msg : "inflate failed");
      return false;
    }
    started = true;
  }
}

}  // namespace gw::response
