// Private to the server module: HTTP/1.1 framing of responses, behind server::Response.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include "server/request_guard.h"
#include "server/server.h"

namespace gw::server {

// Framing of a response head: a Content-Length (>= 0), chunked, or nothing (1xx, 204, or an
// HTTP/1.0 body delimited by closing the connection).
constexpr long long kChunked = -1;
constexpr long long kNoFraming = Response::kNoFraming;

// "HTTP/1.1 <status> <reason>\r\n", Date (unless a field carries one: a relayed backend's Date is
// the only one, as with Go's server), the fields, the framing, Connection: close when !keep_alive.
std::string response_head(Worker& worker, unsigned status, Headers fields, Headers more_fields,
                          long long body_size, bool keep_alive);

// The HTTP/1.1 transport's answer to one request.
class Http1Response final : public Response {
 public:
  explicit Http1Response(Exchange& exchange) : ex_(exchange) {}
  Task<bool> send(unsigned status, Headers headers, std::string_view body, long long length) override;
  Task<bool> start(unsigned status, Headers headers, std::optional<std::uint64_t> length) override;
  Task<bool> write(std::string_view chunk) override;
  Task<bool> finish() override;

 private:
  Exchange& ex_;
  bool chunked_ = false;          // the streamed body is sent in chunks (HTTP/1.1, length unknown)
  bool close_delimited_ = false;  // HTTP/1.0 client, length unknown: the body ends when we close
  bool head_only_ = false;        // HEAD request: the head is all the client gets
};

// A request body read from the connection as the handler asks for it: each piece is parsed into
// the request's body string, which is cleared first, so memory stays at one read's worth.
class Http1RequestBody final : public RequestBody {
 public:
  Http1RequestBody(httpio::Socket& stream, beast::flat_buffer& buffer, RequestParser& parser, deadline::Watch& watch,
                   Worker& worker, std::chrono::nanoseconds read_timeout, bool send_continue);
  bool done() const override { return parser_.is_done(); }
  std::optional<std::uint64_t> length() const override { return length_; }
  Task<std::pair<httpio::error_code, std::string_view>> next() override;
  Task<httpio::error_code> read_rest() override;
  // Nothing was read yet, though the client waits for 100 Continue before sending the body.
  bool awaiting_continue() const { return send_continue_ && !started_; }

 private:
  void begin();  // the first read: 100 Continue when asked for, and the read deadline

  httpio::Socket& stream_;
  beast::flat_buffer& buffer_;
  RequestParser& parser_;
  deadline::Watch& watch_;
  Worker& worker_;
  std::chrono::nanoseconds read_timeout_;
  std::optional<std::uint64_t> length_;
  bool send_continue_;
  bool started_ = false;
};

}  // namespace gw::server
