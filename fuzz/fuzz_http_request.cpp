// The server's request-head path (HeadScanner + the sessions' Beast parser configuration + field
// checks) and the body parser, over pipelined requests fed in pieces of a fuzzed size.
// Input: <step byte><request bytes...>
#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <string_view>

#include "server/request_guard.h"

using namespace gw::server;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = data[0] % 64 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 1 << 16;
  limits.max_target_bytes = 512;
  for (int request = 0; request < 8 && !in.empty(); ++request) {
    std::pmr::monotonic_buffer_resource memory;
    RequestParser parser(std::piecewise_construct, std::make_tuple(),
                         std::make_tuple(FieldAllocator(&memory)));
    configure(parser, limits);
    HeadScanner scanner(limits);
    HeadResult head;
    std::size_t have = 0;
    do {
      have = std::min(in.size(), have + step);
      head = parse_request_head(in.substr(0, have), scanner, parser, limits);
    } while (head.state == HeadScanner::State::need_more && have < in.size());
    if (head.state != HeadScanner::State::complete) return 0;
    // What passed must be what we promise the proxy: one framing, clean values, bounded target.
    check(head.consumed <= have && parser.is_header_done());
    check(check_request_fields(parser) == 0);
    const auto& req = parser.get();
    check(req.target().size() <= limits.max_target_bytes);
    check(req.count(http::field::content_length) <= 1);
    check(!(req.count(http::field::content_length) && req.count(http::field::transfer_encoding)));
    for (const auto& f : req)
      for (char c : f.value()) check(c != '\r' && c != '\n' && c != '\0');
    in.remove_prefix(head.consumed);
    boost::system::error_code ec;
    while (!parser.is_done() && !in.empty()) {
      std::size_t n = parser.put(boost::asio::buffer(in.data(), std::min(in.size(), step)), ec);
      if (ec == http::error::need_more) ec = {};
      if (ec) return 0;
      if (n == 0 && in.size() <= step) break;
      in.remove_prefix(n);
      if (n == 0) {  // Beast wants more than one step at once (a whole chunk header)
        n = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
        if (ec && ec != http::error::need_more) return 0;
        if (n == 0) break;
        in.remove_prefix(n);
      }
    }
    if (!parser.is_done()) return 0;
    check(req.body().size() <= limits.max_body_bytes);
    if (auto n = parser.content_length(); n && !parser.chunked()) check(req.body().size() == *n);
  }
  return 0;
}
