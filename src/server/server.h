// HTTP/1.1 front end: thread per core, one io_context and SO_REUSEPORT listener per worker,
// keep-alive sessions with header/body/idle limits, and graceful drain on SIGTERM/SIGINT.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "deadline/deadline.h"
#include "httpio/httpio.h"

namespace gw::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using httpio::Task;

struct Limits {
  std::size_t max_header_bytes = 1 << 20;
  std::size_t max_body_bytes = 64 << 20;
  std::size_t max_target_bytes = 8 << 10;  // request-target; longer -> 414 (nginx's default buffer size)
  std::chrono::nanoseconds read_header_timeout = std::chrono::seconds(10);
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(60);  // whole request body
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(90);  // between keep-alive requests
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(0);  // 0 = bounded by the handler
  std::size_t max_connections = 100000;                              // per process; over it -> 503 + close
};

// Applies GATEWAY_MAX_CONNECTIONS and GATEWAY_MAX_URI_BYTES from the environment, and caps
// max_connections at half the open-file limit so backend connections always find a descriptor.
// Raises the soft RLIMIT_NOFILE to the hard one first, as Go does at start-up.
Limits limits_from_environment(Limits limits);

struct Options {
  std::string listen_ip;  // "" = all interfaces (IPv4 and IPv6 where available)
  unsigned short port = 8080;
  unsigned workers = 0;  // 0 = hardware concurrency
  Limits limits;
  std::chrono::nanoseconds max_shutdown_wait{0};  // 0 = wait for in-flight requests indefinitely
};

class Worker;

// Request header fields live in a per-request arena: no malloc per header on the hot path.
using FieldAllocator = std::pmr::polymorphic_allocator<char>;
using Fields = http::basic_fields<FieldAllocator>;
using Request = http::request<http::string_body, Fields>;

// One response header field. Both views must stay valid until the response head is written.
struct Header {
  std::string_view name, value;
};
using Headers = std::span<const Header>;
// Header fields a handler collects for one response; a dozen stay on the stack.
using HeaderList = boost::container::small_vector<Header, 12>;

// How the application answers, whatever the transport: the handler gives status, header fields and
// body; the transport frames them (HTTP/1.1 today; TLS and HTTP/2 implement the same interface).
// Every call returns false when the connection can no longer be used (a write failed).
class Response {
 public:
  virtual ~Response() = default;
  // A whole response. The body is dropped for 1xx/204/304 and HEAD requests. `length` is kFromBody
  // (Content-Length: body.size()), kNoFraming (none), or the length a relayed HEAD/304 announces.
  static constexpr long long kFromBody = -3;
  static constexpr long long kNoFraming = -2;
  virtual Task<bool> send(unsigned status, Headers headers, std::string_view body,
                          long long length = kFromBody) = 0;
  // A streamed response: `length` when known, else the transport delimits the body itself.
  virtual Task<bool> start(unsigned status, Headers headers, std::optional<std::uint64_t> length) = 0;
  virtual Task<bool> write(std::string_view chunk) = 0;
  // Ends a streamed body; false when the connection cannot serve another request.
  virtual Task<bool> finish() = 0;
};

// A request body the server has not read yet: the handler streams it (next) or reads it whole
// (read_whole_body). Errors: http::error::body_limit past max_body_bytes, a read or timeout error.
class RequestBody : public httpio::BodySource {
 public:
  virtual bool done() const = 0;
  // The whole body's Content-Length, when the client sent one (else chunked).
  virtual std::optional<std::uint64_t> length() const = 0;
  // Reads everything left into the request's body string, after what is there.
  virtual Task<httpio::error_code> read_rest() = 0;
};

// One request, as handed to the application.
struct Exchange {
  Request& request;
  httpio::Socket& stream;  // the client connection (its executor; the transport writes to it)
  Worker& worker;
  std::string_view peer_ip;
  Clock::time_point start;
  bool keep_alive;                      // the handler clears it to close the connection after its response
  std::uint64_t bytes_written = 0;      // response bytes, for metrics and access logs
  int status = 0;                       // response status, for metrics and access logs
  deadline::Watch* deadline = nullptr;  // the connection's; set by the server
  Response* response = nullptr;         // set by the server: how to answer
  // The body still to come, or null when it is all in request.body() (or there is none).
  RequestBody* body = nullptr;
  // Fields every response to this request carries (engine stages: CORS), written after the handler's.
  HeaderList engine_headers;
  // Called (once, on the worker's thread) when the client goes away before its response is done,
  // like Go's server cancelling the request context: the application cancels its backend calls.
  void (*on_client_gone)(Exchange&) = nullptr;

  // The client connection is closed if the writes (and reads) that follow take longer than `after`.
  void deadline_after(Clock::duration after);
};

// The application: answers one request, writing the whole response to exchange.stream.
// Returns false when the connection can no longer be used (e.g. a write failed).
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Task<bool> handle(Exchange& exchange) = 0;
  // Called once per worker thread before serving; lets the handler build per-worker state.
  virtual void attach(Worker& worker) {}
};

// Reads the rest of ex.body into ex.request.body() (for handlers that need it whole) and clears
// ex.body. Returns the HTTP status to answer a failure with (413 past the limit, 400), or 0.
Task<unsigned> read_whole_body(Exchange& ex);
// The status that answers a failed body read: 413 past max_body_bytes, 431 for an oversized
// trailer, 400 for the rest.
unsigned body_error_status(const httpio::error_code& ec);

// Per-thread state; handlers may hang their own per-worker objects here.
class Worker {
 public:
  explicit Worker(unsigned index) : index(index) {}
  const unsigned index;
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};  // one thread drives it
  deadline::Deadlines deadlines{io.get_executor()};            // client connections' read/write deadlines
  std::atomic<bool> draining{false};
  std::shared_ptr<void> app_state;  // owned by the Handler (upstream pools, metric shard, ...)
  // Date header value, refreshed at most once a second.
  std::string_view http_date();

 private:
  std::string date_;
  long date_second_ = -1;
};

class Server {
 public:
  Server(Options options, std::shared_ptr<Handler> handler);
  ~Server();

  // Binds every worker's listener; throws std::system_error with a clear message on failure.
  void bind();
  // Serves until SIGTERM/SIGINT (or stop()), then drains. Returns 0 after a clean drain, 1 when
  // in-flight requests were cut at max_shutdown_wait.
  int run();
  void stop();  // same as receiving SIGTERM; thread-safe
  unsigned short port() const { return bound_port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short bound_port_ = 0;
};

// The client address as Go's RemoteAddr shows it: an IPv4 client reaching a dual-stack listener is
// "10.0.0.1", not the v4-mapped "::ffff:10.0.0.1" (X-Forwarded-For, logs, client_ip).
std::string client_address(const asio::ip::address& address);

// ---- response helpers shared by every handler ----

// Canonical reason phrase ("Not Found"); empty for unknown codes.
std::string_view reason(unsigned status);

}  // namespace gw::server
