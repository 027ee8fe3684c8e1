// Content-Encoding: gzip bodies from backends. KrakenD's Go transport asks for gzip and undoes it
// before the body is decoded (or relayed, on no-op endpoints); this is that step, with zlib.
#include <zlib.h>

#include "response/response.h"

namespace gw::response {

struct Gunzip::State {
  z_stream z{};
  bool ready = false;           // inflateInit2 succeeded
  bool member_ended = false;    // the last byte taken ended a gzip member
  bool member_started = false;  // the current member's header was accepted
  bool output_held = false;     // the last inflate filled its output: zlib may hold more
};

Gunzip::Gunzip() : state_(std::make_unique<State>()) {
  state_->ready = inflateInit2(&state_->z, 16 + MAX_WBITS) == Z_OK;  // 16: a gzip wrapper, not zlib's
}

Gunzip::~Gunzip() {
  if (state_->ready) inflateEnd(&state_->z);
}

void Gunzip::input(std::string_view piece) {
  state_->z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
  state_->z.avail_in = static_cast<uInt>(piece.size());
}

bool Gunzip::used_up() const { return state_->z.avail_in == 0 && !state_->output_held; }

bool Gunzip::read(std::string& out, std::size_t max, std::string& error) {
  State& s = *state_;
  if (!s.ready) {
    error = "gzip: cannot initialise";
    return false;
  }
  z_stream& z = s.z;
  for (;;) {
    // Go's gzip.Reader reads concatenated members (multistream) until the input ends.
    if (s.member_ended) {
      if (z.avail_in == 0) return true;
      inflateReset(&z);
      s.member_ended = s.member_started = false;
    }
    if (out.size() >= max) return true;
    if (out.size() == out.capacity()) out.reserve(std::min(max, std::max<std::size_t>(4096, 2 * out.size())));
    const std::size_t at = out.size();
    const std::size_t room = std::min(out.capacity(), max) - at;
    out.resize(at + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.resize(at + (room - z.avail_out));
    s.output_held = z.avail_out == 0;
    if (rc == Z_STREAM_END) {
      s.member_ended = true;
      s.output_held = false;
      continue;
    }
    if (rc == Z_DATA_ERROR) {
      error = s.member_started || z.total_out > 0 ? "flate: corrupt input" : "gzip: invalid header";
      return false;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {  // all input taken, nothing held: wait for more
      s.output_held = false;
      return true;
    }
    if (rc != Z_OK) {
      error = "gzip: " + std::string(z.msg ? z.msg : "inflate failed");
      return false;
    }
    s.member_started = true;
    if (z.avail_in == 0 && !s.output_held) return true;
  }
}

bool Gunzip::finish(std::string& error) const {
  if (state_->member_ended) return true;
  error = "unexpected EOF";  // the input ended inside a member (or before any)
  return false;
}

bool gunzip(std::string_view in, std::string& out, std::size_t limit, std::string& error) {
  out.clear();
  Gunzip g;
  g.input(in);
  if (!g.read(out, limit + 1, error)) return false;
  if (out.size() > limit) {
    error = "gzip: body over " + std::to_string(limit) + " bytes once decompressed";
    return false;
  }
  return g.finish(error);
}

}  // namespace gw::response
