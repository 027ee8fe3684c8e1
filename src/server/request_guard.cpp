#include "server/request_guard.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <stdexcept>

namespace gw::server {

namespace {
constexpr std::size_t kMaxLeadingEmptyLines = 4;
constexpr std::size_t kRequestLineSlack = 64;  // method, two spaces, "HTTP/1.1"
// Beast's fields store 16-bit sizes (a longer name or value throws): refuse such a line with 431.
constexpr std::size_t kMaxFieldLine = 65000;
}  // namespace

HeadScanner::Result HeadScanner::scan(std::string_view b) {
  const std::size_t max_line0 = limits_.max_target_bytes + kRequestLineSlack;
  for (; pos_ < b.size(); ++pos_) {
    const auto c = static_cast<unsigned char>(b[pos_]);
    if (c == '\r') {
      if (pos_ + 1 >= b.size()) break;  // need the byte after it
      if (b[pos_ + 1] != '\n') return reject(400, "bare CR in head");
      std::string_view line = b.substr(line_start_, pos_ - line_start_);
      ++pos_;  // now on the LF; the loop steps past it
      if (line.empty()) {
        if (line_ > 0) return {State::complete, 0, {}, skip_, pos_ + 1 - skip_};
        // RFC 9112 §2.2: empty lines before the request line are ignored, a few of them.
        skip_ = line_start_ = pos_ + 1;
        if (skip_ > 2 * kMaxLeadingEmptyLines) return reject(400, "empty lines before request");
        continue;
      }
      if (line_ == 0) {
        // request-line = method SP request-target SP HTTP-version; malformed ones are Beast's to refuse.
        auto first = line.find(' '), last = line.rfind(' ');
        if (first != std::string_view::npos && last > first && last - first - 1 > limits_.max_target_bytes)
          return reject(414, "request-target too long");
      } else if (line[0] == ' ' || line[0] == '\t') {
        // obs-fold (RFC 9112 §5.2): a downstream parser may read it as a new field. Refuse.
        return reject(400, "obs-fold in header");
      }
      ++line_;
      line_start_ = pos_ + 1;
      continue;
    }
    if (c == '\n') return reject(400, "bare LF in head");
    if ((c < 0x20 && c != '\t') || c == 0x7f) return reject(400, "control character in head");
    if (line_ == 0 && pos_ - line_start_ > max_line0) return reject(414, "request-target too long");
    if (line_ > 0 && pos_ - line_start_ > kMaxFieldLine) return reject(431, "header field too large");
    if (pos_ - skip_ >= limits_.max_header_bytes) return reject(431, "head too large");
  }
  return {State::need_more, 0, {}, skip_, 0};
}

void configure(RequestParser& parser, const Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(limits.max_body_bytes);
}

unsigned check_request_fields(const RequestParser& parser) {
  const auto& req = parser.get();
  int content_length = 0, host = 0, transfer_encoding = 0;
  bool only_chunked = true;
  for (const auto& f : req) {
    switch (f.name()) {
      case http::field::content_length:
        // Beast accepts "5, 5" and repeated equal values; a proxy must not (RFC 9112 §6.3).
        if (++content_length > 1 || f.value().find(',') != std::string_view::npos) return 400;
        break;
      case http::field::host:
        ++host;
        break;
      case http::field::transfer_encoding:
        ++transfer_encoding;
        only_chunked = only_chunked && beast::iequals(f.value(), "chunked");
        break;
      default:
        break;
    }
  }
  // Beast already refuses Content-Length together with a chunked Transfer-Encoding.
  if (transfer_encoding && req.version() < 11) return 400;         // RFC 9112 §6.1
  if (transfer_encoding > 1 || !only_chunked) return 501;          // as Go: unsupported transfer encoding
  if (host > 1 || (host == 0 && req.version() >= 11)) return 400;  // RFC 9112 §3.2
  return 0;
}

HeadResult parse_request_head(std::string_view bytes, HeadScanner& scanner, RequestParser& parser,
                              const Limits& limits) {
  using State = HeadScanner::State;
  auto r = scanner.scan(bytes);
  if (r.state != State::complete) return {r.state, r.status, r.reason, 0};
  boost::system::error_code ec;
  std::size_t used = 0;
  try {
    used = parser.put(boost::asio::buffer(bytes.data() + r.skip, r.size), ec);
  } catch (const std::length_error&) {  // a field Beast cannot store; the scan should have refused it
    return {State::reject, 431, "header field too large", 0};
  }
  if (ec == http::error::header_limit) return {State::reject, 431, "head too large", 0};
  if (ec == http::error::body_limit) return {State::reject, 413, "body too large", 0};
  if (ec || used != r.size || !parser.is_header_done()) return {State::reject, 400, "malformed head", 0};
  if (unsigned status = check_request_fields(parser))
    return {State::reject, status, "bad framing headers", 0};
  if (auto n = parser.content_length(); n && *n > limits.max_body_bytes)
    return {State::reject, 413, "body too large", 0};
  return {State::complete, 0, {}, r.skip + r.size};
}

}  // namespace gw::server
