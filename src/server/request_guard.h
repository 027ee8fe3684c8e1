// Request framing defences in front of Beast's parser: what Beast accepts but a proxy must refuse
// (obs-fold, duplicate Content-Length, odd Transfer-Encoding, missing/duplicate Host, over-long
// targets), plus the exact parser configuration the sessions use. The server and the
// fuzz_http_request target both go through parse_request_head, so the fuzzer tests what runs.
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <string_view>

#include "server/server.h"

namespace gw::server {

using RequestParser = http::request_parser<http::string_body, FieldAllocator>;

// Incremental scan of the raw head bytes received so far. Keeps its position between calls, so a
// client trickling a header byte by byte costs O(n) in total, not O(n^2).
class HeadScanner {
 public:
  enum class State { need_more, complete, reject };
  struct Result {
    State state = State::need_more;
    unsigned status = 0;      // reject: 400, 414 or 431
    std::string_view reason;  // reject: short cause, for tests and logs
    std::size_t skip = 0;     // leading empty lines to drop before the request line
    std::size_t size = 0;     // complete: head bytes after `skip`, final CRLFCRLF included
  };

  explicit HeadScanner(const Limits& limits) : limits_(limits) {}
  // `bytes` is everything received for this request so far; it only grows between calls.
  Result scan(std::string_view bytes);

 private:
  Result reject(unsigned status, std::string_view reason) const {
    return {State::reject, status, reason, skip_, 0};
  }
  const Limits& limits_;
  std::size_t pos_ = 0;         // next byte to look at
  std::size_t line_start_ = 0;  // start of the current line
  std::size_t line_ = 0;        // 0 = request line
  std::size_t skip_ = 0;
};

// Sets header/body limits on a fresh parser exactly as the sessions do.
void configure(RequestParser& parser, const Limits& limits);

// Checks on the parsed head that Beast leaves to the application. Returns 0 or the status to
// answer with before closing (400, or 501 for a transfer coding other than "chunked").
unsigned check_request_fields(const RequestParser& parser);

// One step of reading a request head: scans `bytes`, and once the head is complete, parses it
// with `parser` and checks its fields. `consumed` is how many bytes of `bytes` the head used.
struct HeadResult {
  HeadScanner::State state = HeadScanner::State::need_more;
  unsigned status = 0;
  std::string_view reason;
  std::size_t consumed = 0;
};
HeadResult parse_request_head(std::string_view bytes, HeadScanner& scanner, RequestParser& parser,
                              const Limits& limits);

}  // namespace gw::server
