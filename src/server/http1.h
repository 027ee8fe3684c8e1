// Private to the server module: HTTP/1.1 framing of responses, behind server::Response.
#pragma once

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

}  // namespace gw::server
