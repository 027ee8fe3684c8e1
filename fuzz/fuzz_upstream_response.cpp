// The upstream client's response path: interim 1xx skipping, check_response_head, and the
// response_parser<buffer_body> body loop of Client::read_body_chunk, fed in fuzzed pieces.
// Input: <step byte><head-request flag byte><response bytes...>
#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <string_view>

#include "upstream/upstream.h"

using namespace gw::upstream;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step = data[0] % 128 + 1;
  const bool head_request = data[1] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  Exchange ex;
  boost::system::error_code ec;
  // Head, skipping up to 8 interim responses as Client::send does.
  for (int interim = 0;; ++interim) {
    ResponseParser& p = ex.new_parser();
    p.header_limit(4096);
    p.body_limit(boost::none);
    if (head_request) p.skip(true);
    std::size_t used = 0;
    for (std::size_t have = std::min(in.size(), step);; have = std::min(in.size(), have + step)) {
      used = p.put(boost::asio::buffer(in.data(), have), ec);
      if (ec != http::error::need_more || have == in.size()) break;
    }
    if (ec) return 0;
    in.remove_prefix(used);
    const unsigned status = p.head().result_int();
    if (status >= 100 && status < 200 && status != 101 && interim < 8) continue;
    if (check_response_head(status)) return 0;
    break;
  }
  // Body, as read_body_chunk: the parser writes straight into our buffer.
  char chunk[97];
  std::uint64_t total = 0;
  auto& body = ex.parser->body();
  while (!ex.done() && !in.empty()) {
    body.data = chunk;
    body.size = sizeof chunk;
    std::size_t n = ex.parser->put(boost::asio::buffer(in.data(), std::min(in.size(), step)), ec);
    if (ec == http::error::need_buffer || ec == http::error::need_more) ec = {};
    if (ec) return 0;
    total += sizeof chunk - body.size;
    if (n == 0) {
      body.data = chunk;
      body.size = sizeof chunk;
      n = ex.parser->put(boost::asio::buffer(in.data(), in.size()), ec);
      if (ec == http::error::need_buffer || ec == http::error::need_more) ec = {};
      if (ec) return 0;
      total += sizeof chunk - body.size;
      if (n == 0 && body.size == sizeof chunk) break;
    }
    in.remove_prefix(n);
  }
  if (!ex.done() && !ex.chunked() && !ex.content_length()) ex.parser->put_eof(ec);
  // 1xx/204/304 have no body whatever Content-Length says (found by this target: 204 + CL 7).
  const unsigned s = ex.status();
  const bool bodiless = head_request || s < 200 || s == 204 || s == 304;
  if (bodiless) check(total == 0);
  if (auto len = ex.content_length(); len && !bodiless) check(total <= *len);
  if (ex.done() && !bodiless && ex.content_length()) check(total == *ex.content_length());
  return 0;
}
