// HTTP/1.1 framing of the application's responses (server::Response): status line, Date, fields,
// Content-Length or chunked, Connection: close; writes go out at once when the socket takes them.
#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <cstdio>

#include "server/http1.h"

namespace gw::server {

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(60);

bool has_date(Headers fields) {
  for (const Header& h : fields)
    if (h.name.size() == 4 && beast::iequals(h.name, "date")) return true;
  return false;
}

void append_fields(std::string& out, Headers fields) {
  for (const Header& h : fields) {
    out.append(h.name);
    out += ": ";
    out.append(h.value);
    out += "\r\n";
  }
}

}  // namespace

std::string response_head(Worker& worker, unsigned status, Headers fields, Headers more_fields,
                          long long body_size, bool keep_alive) {
  std::size_t size = 160;
  for (const Header& h : fields) size += h.name.size() + h.value.size() + 4;
  for (const Header& h : more_fields) size += h.name.size() + h.value.size() + 4;
  std::string head;
  head.reserve(size);
  head += "HTTP/1.1 ";
  char digits[8];
  head.append(digits, static_cast<std::size_t>(std::snprintf(digits, sizeof digits, "%u", status)));
  head += ' ';
  head += reason(status);
  head += "\r\n";
  if (!has_date(fields)) {
    head += "Date: ";
    head += worker.http_date();
    head += "\r\n";
  }
  append_fields(head, fields);
  append_fields(head, more_fields);
  if (body_size >= 0) {
    head += "Content-Length: ";
    head += std::to_string(body_size);
    head += "\r\n";
  } else if (body_size == kChunked) {
    head += "Transfer-Encoding: chunked\r\n";
  }
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

Task<bool> Http1Response::send(unsigned status, Headers headers, std::string_view body, long long length) {
  if (ex_.worker.draining.load(std::memory_order_relaxed)) ex_.keep_alive = false;
  // 1xx and 204 never carry a body or Content-Length; 304 only announces one when relayed.
  const bool bodiless = status < 200 || status == 204 || status == 304;
  long long framing = length == kFromBody ? static_cast<long long>(body.size()) : length;
  if (status < 200 || status == 204 || (status == 304 && length == kFromBody)) framing = kNoFraming;
  if (bodiless || ex_.request.method() == http::verb::head) body = {};
  const std::string head =
      response_head(ex_.worker, status, headers, ex_.engine_headers, framing, ex_.keep_alive);
  ex_.status = static_cast<int>(status);
  ex_.deadline_after(kWriteTimeout);
  const boost::system::error_code ec = co_await httpio::write(
      ex_.stream, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)});
  ex_.bytes_written += body.size();
  co_return !ec;
}

Task<bool> Http1Response::start(unsigned status, Headers headers, std::optional<std::uint64_t> length) {
  if (ex_.worker.draining.load(std::memory_order_relaxed)) ex_.keep_alive = false;
  const bool http10 = ex_.request.version() < 11;
  head_only_ = ex_.request.method() == http::verb::head;
  chunked_ = !length && !http10;
  close_delimited_ = !length && http10;
  if (close_delimited_) ex_.keep_alive = false;
  const long long framing = length ? static_cast<long long>(*length) : chunked_ ? kChunked : kNoFraming;
  const std::string head =
      response_head(ex_.worker, status, headers, ex_.engine_headers, framing, ex_.keep_alive);
  ex_.status = static_cast<int>(status);
  ex_.deadline_after(kWriteTimeout);
  const auto ec =
      co_await httpio::write(ex_.stream, std::array{asio::const_buffer(head.data(), head.size())});
  co_return !ec;
}

Task<bool> Http1Response::write(std::string_view chunk) {
  if (chunk.empty() || head_only_) co_return true;
  ex_.deadline_after(kWriteTimeout);
  boost::system::error_code ec;
  if (chunked_) {
    ec = co_await httpio::write_chunk(ex_.stream, chunk);
  } else {
    ec = co_await httpio::write(ex_.stream, std::array{asio::const_buffer(chunk.data(), chunk.size())});
  }
  ex_.bytes_written += chunk.size();
  co_return !ec;
}

Task<bool> Http1Response::finish() {
  if (chunked_ && !head_only_) {
    ex_.deadline_after(kWriteTimeout);
    const auto ec = co_await httpio::write(ex_.stream, std::array{asio::const_buffer("0\r\n\r\n", 5)});
    if (ec) co_return false;
  }
  co_return !close_delimited_;
}

Http1RequestBody::Http1RequestBody(httpio::Socket& stream, beast::flat_buffer& buffer, RequestParser& parser,
                                   deadline::Watch& watch, Worker& worker,
                                   std::chrono::nanoseconds read_timeout, bool send_continue)
    : stream_(stream),
      buffer_(buffer),
      parser_(parser),
      watch_(watch),
      worker_(worker),
      read_timeout_(read_timeout),
      send_continue_(send_continue) {
  if (auto n = parser.content_length()) length_ = *n;
}

void Http1RequestBody::begin() {
  started_ = true;
  if (send_continue_) {
    // Small and first on the connection: the socket takes it at once, or the body read fails later.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    boost::system::error_code ignored;
    stream_.send(asio::buffer(kContinue), 0, ignored);
  }
  // The whole body within read_timeout, however it trickles.
  watch_.arm(worker_.deadlines, stream_, Clock::now() + read_timeout_);
}

Task<std::pair<httpio::error_code, std::string_view>> Http1RequestBody::next() {
  if (!started_) begin();
  std::string& piece = parser_.get().body();
  piece.clear();  // the parser appends at the string's end
  while (!parser_.is_done() && piece.empty()) {
    // httpio, not Beast's composed read: a chunked trailer field of 64 KiB used to abort the gateway.
    const auto ec = co_await httpio::read_some(stream_, buffer_, parser_);
    if (ec) {
      watch_.disarm();
      co_return std::pair{ec, std::string_view()};
    }
  }
  if (parser_.is_done()) watch_.disarm();
  co_return std::pair{httpio::error_code{}, std::string_view(piece)};
}

Task<httpio::error_code> Http1RequestBody::read_rest() {
  if (!started_) begin();
  const auto ec = co_await httpio::read(stream_, buffer_, parser_);
  watch_.disarm();
  co_return ec;
}

Task<unsigned> read_whole_body(Exchange& ex) {
  if (!ex.body) co_return 0u;
  const auto ec = co_await ex.body->read_rest();
  ex.body = nullptr;
  if (!ec) co_return 0u;
  ex.keep_alive = false;  // the rest of the request is still on the connection
  co_return body_error_status(ec);
}

unsigned body_error_status(const httpio::error_code& ec) {
  return ec == http::error::body_limit ? 413u : ec == http::error::header_limit ? 431u : 400u;
}

}  // namespace gw::server
