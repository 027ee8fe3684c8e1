// Per-worker HTTP/1.1 client for backends: keep-alive pools per host:port, cached DNS, one
// deadline bounding connect + write + read. A connection returns to the pool only after a complete
// keep-alive response. Not thread-safe by design: one Client per worker io_context.
#pragma once

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "deadline/deadline.h"
#include "httpio/httpio.h"

namespace gw::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using httpio::Executor;
using httpio::Task;

struct Options {
  std::size_t max_idle_per_host = 250;
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(90);
  std::chrono::seconds dns_ttl{30};
  std::size_t max_response_header_bytes = 1 << 20;
  // Measure Exchange::get_conn_seconds / dns_seconds (krakend-otel's detailed_connection metrics).
  bool connection_timings = false;
};

struct Target {
  Target() = default;
  Target(std::string h, std::uint16_t p)
      : host(std::move(h)), port(p), key(host + ":" + std::to_string(port)) {}
  std::string host;  // DNS name or IP literal
  std::uint16_t port = 80;
  std::string key;  // "host:port": the pool and DNS cache key
};

class Connection {
 public:
  // max_buffer bounds what one response can make us hold (e.g. an endless chunk extension).
  // Beast reads as much as the buffer's free capacity, and an empty flat_buffer reads 512 bytes:
  // reserving 16 KiB up front reads a response in 16 KiB syscalls instead of 512-byte ones.
  Connection(Executor ex, std::size_t max_buffer) : socket(ex), buffer(max_buffer) {
    buffer.reserve(std::min<std::size_t>(max_buffer, kReadSize));
  }
  static constexpr std::size_t kReadSize = 16 * 1024;
  httpio::Socket socket;
  beast::flat_buffer buffer;
  std::string pool_key;
  Clock::time_point idle_since{};
  bool reused = false;
  bool quick_acked = false;  // TCP_QUICKACK set during the current exchange
  bool broken = false;       // a write failed: whatever it answers, it is not reused
  deadline::Watch deadline;  // armed from connecting or send() until the connection is pooled or dropped
  // A receive is pending that finds bytes or EOF the backend sends while no request is outstanding
  // (Client::watch_idle); what it found is shared with it, as it may complete after the connection is gone.
  struct IdleWatch {
    bool dirty = false;  // the backend sent bytes or closed after the response
    char peeked = 0;
  };
  bool watching = false;
  std::shared_ptr<IdleWatch> idle_watch;
};

// Refuses response heads the gateway must not relay: status outside 100..999 semantics we can
// honour (a 101 to a request that never asked to upgrade, or < 100). 1xx interim responses are
// skipped by Client::send and never reach this.
error_code check_response_head(unsigned status);

// A backend response head: status and header fields in arrival order, stored flat in the
// exchange's arena. Beast's basic_fields keeps each message's fields in a list and a case-insensitive
// search tree, whose inserts were ~5% of an aggregated request's instructions; the gateway only scans
// the few fields of a response, so a vector does.
class ResponseHead {
 public:
  struct Field {
    http::field id;
    std::string_view name_text, value_text;
    http::field name() const { return id; }
    std::string_view name_string() const { return name_text; }
    beast::string_view value() const { return value_text; }
  };
  using const_iterator = const Field*;

  explicit ResponseHead(std::pmr::memory_resource* arena) : fields_(arena) { fields_.reserve(16); }
  const Field* begin() const { return fields_.data(); }
  const Field* end() const { return fields_.data() + fields_.size(); }
  const Field* find(http::field id) const;              // the first field so named, or end()
  const Field* find(std::string_view name) const;       // by name, case-insensitive
  beast::string_view operator[](http::field id) const;  // its value, "" when absent
  beast::string_view operator[](std::string_view name) const;
  unsigned result_int() const { return status_; }
  unsigned version() const { return version_; }

 private:
  friend class ResponseParser;
  std::pmr::vector<Field> fields_;
  unsigned status_ = 0, version_ = 11;
};

// Beast's response framing (status line, Content-Length, chunked, close-delimited, limits) with the
// head stored as a ResponseHead, and the body read into a caller's buffer like http::buffer_body:
// set body().data/size before each put(); put() then ends with http::error::need_buffer when full.
class ResponseParser : public http::basic_parser<false> {
 public:
  struct Body {
    void* data = nullptr;
    std::size_t size = 0;
  };
  explicit ResponseParser(std::pmr::memory_resource* arena) : arena_(arena), head_(arena) {}
  const ResponseHead& head() const { return head_; }
  Body& body() { return body_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, beast::string_view reason, int version, error_code& ec) override;
  void on_field_impl(http::field id, beast::string_view name, beast::string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view bytes, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view bytes, error_code& ec) override {
    return on_body_impl(bytes, ec);
  }
  void on_finish_impl(error_code&) override {}

  std::pmr::memory_resource* arena_;
  ResponseHead head_;
  Body body_;
};

// An exchange in progress: the response head is parsed; the body is read with read_body_chunk.
class Exchange {
 public:
  Exchange() : arena_(arena_bytes_, sizeof arena_bytes_) {}
  // The parser's fields live in arena_, which is declared (so destroyed) first: drop the parser
  // before it. Found by fuzz_upstream_response: heads over 2 KiB were read after free.
  ~Exchange() { parser.reset(); }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  std::unique_ptr<Connection> connection;
  std::optional<ResponseParser> parser;
  // With Options::connection_timings, as Go's httptrace reports them: the time to get a connection
  // (from the pool or a new dial, DNS included) and the time resolving a name; < 0: not measured or
  // did not happen (a pooled connection needs no DNS, an IP literal is never resolved).
  double get_conn_seconds = -1;
  double dns_seconds = -1;
  // When Client::finish released the connection (its clock read, reused by the caller's metrics).
  Clock::time_point finished_at{};
  // What Client::cancel(group) cuts short: the client request this call serves (set by the caller).
  const void* cancel_group = nullptr;
  // A streamed request body: bytes sent, whether any piece was taken from the source (the request can
  // then not be retried), and whether the source itself failed (the client's upload, not the backend).
  std::uint64_t body_bytes_sent = 0;
  bool body_pulled = false;
  bool body_source_failed = false;
  // Starts a fresh parser whose header fields live in this exchange's arena.
  ResponseParser& new_parser() {
    parser.reset();
    arena_.release();
    parser.emplace(&arena_);
    return *parser;
  }

  const ResponseHead& head() const { return parser->head(); }
  unsigned status() const { return parser->head().result_int(); }
  bool done() const { return parser->is_done(); }
  std::optional<std::uint64_t> content_length() const {
    auto n = parser->content_length();
    return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
  }
  bool chunked() const { return parser->chunked(); }
  // Whether the connection can go back to the pool once the body has been read.
  bool keep_alive() const { return parser->keep_alive(); }
  // Content-Encoding: gzip, the one coding Go's transport undoes when it asked for it.
  bool gzip_encoded() const {
    const auto it = head().find(http::field::content_encoding);
    return it != head().end() && beast::iequals(it->value(), "gzip");
  }

 private:
  alignas(std::max_align_t) char arena_bytes_[2048];
  std::pmr::monotonic_buffer_resource arena_;
};

// A request to a backend as data: method, target, Host, fields, body and its framing. The client
// writes it in its protocol (HTTP/1.1 today; an HTTP/2 client reads the same accessors). The text is
// kept in HTTP/1.1 order ("METHOD target HTTP/1.1", Host, "Name: value" lines), so writing it is one
// copy-free buffer; it owns that text, so a copy (a redirect's next hop) is safe. The body is the
// caller's and must outlive the exchange.
class Request {
 public:
  enum class Framing : std::uint8_t {
    none,     // no body and no framing field (GET/HEAD without a body)
    length,   // Content-Length: body.size() (or `length` for a streamed body)
    chunked,  // Transfer-Encoding: chunked (a length the sender does not know)
  };
  struct Field {
    std::string_view name, value;
  };

  // Built in order: set_method, the target (open_target ... close_target), set_authority, fields.
  Request() { text_.reserve(384); }
  Request(std::string_view method, std::string_view target, std::string_view authority);
  void set_method(std::string_view method);
  std::string& open_target() { return text_; }  // append the target to it, then close_target()
  void close_target();
  void set_authority(std::string_view authority);
  // Adds a field (the name as it goes on the wire).
  void add(std::string_view name, std::string_view value);
  // Adds fields given as "Name: value\r\n" lines (a tracer's propagation headers).
  void add_lines(std::string_view lines);
  // Adds a field whose name is written in Go's canonical form ("x-y-z" -> "X-Y-Z"), as Go's
  // transport writes every field lura forwards.
  void add_canonical(std::string_view name, std::string_view value);

  // Changes once built (a redirect's next hop): each rewrites the text.
  void set_line(std::string_view method, std::string_view target);
  void change_authority(std::string_view authority);
  void remove(std::string_view name);  // every field so named (ASCII case-insensitive)

  std::string_view method() const { return view(method_); }
  std::string_view target() const { return view(target_); }  // origin-form: path and query
  std::string_view authority() const { return view(authority_); }
  std::size_t field_count() const { return fields_.size(); }
  Field field(std::size_t i) const { return {view(fields_[i].first), view(fields_[i].second)}; }
  // Request line, Host and fields as HTTP/1.1 writes them (no framing field, no blank line).
  std::string_view http1_text() const { return text_; }

  std::string_view body;
  // A body still arriving (a client's upload, streamed): then `body` is empty, and `length` is its
  // announced size for Framing::length.
  httpio::BodySource* source = nullptr;
  std::uint64_t length = 0;
  Framing framing = Framing::none;

 private:
  struct Piece {
    std::uint32_t at = 0, size = 0;
  };
  std::uint32_t end() const { return static_cast<std::uint32_t>(text_.size()); }
  std::string_view view(Piece p) const { return std::string_view(text_).substr(p.at, p.size); }
  // Writes the text again from the parts, leaving out the fields named `drop`.
  void rebuild(std::string_view method, std::string_view target, std::string_view authority,
               std::string_view drop);

  std::string text_;
  Piece method_, target_, authority_;
  boost::container::small_vector<std::pair<Piece, Piece>, 16> fields_;
};

// The end of a request's HTTP/1.1 head: its framing field and the blank line.
struct HeadTail {
  char bytes[48];
  std::uint8_t size = 0;
  std::string_view view() const { return {bytes, size}; }
};
HeadTail http1_tail(const Request& r);
// The whole HTTP/1.1 head of `r` in one string (tests; the client writes text and tail as they are).
std::string http1_head(const Request& r);

// A request body and its framing: Content-Length (announced in the head by the caller), or chunked
// (the head says Transfer-Encoding: chunked; send() frames the bytes as one chunk and the last one).
struct RequestBody {
  RequestBody() = default;
  RequestBody(std::string_view b) : bytes(b) {}  // NOLINT: a plain body is the common case
  RequestBody(std::string_view b, bool c, httpio::BodySource* s = nullptr)
      : bytes(b), chunked(c), source(s) {}
  std::string_view bytes;
  bool chunked = false;
  httpio::BodySource* source = nullptr;  // pieces written as they arrive, after the head (bytes unused)
};

class Client {
 public:
  Client(Executor executor, Options options);
  ~Client();

  // Sends `request` and reads the response head. A failure on a reused pooled connection before any
  // response byte arrives is retried once on a fresh connection.
  Task<error_code> send(const Target& target, const Request& request, Clock::time_point deadline,
                        Exchange& out) {
    return send_head(target, request.http1_text(), http1_tail(request),
                     RequestBody(request.body, request.framing == Request::Framing::chunked, request.source),
                     deadline, out, request.method() == "HEAD");
  }
  // The same with a head already written (`request_head`: a complete HTTP/1.1 head ending in CRLFCRLF,
  // alive until the call completes).
  Task<error_code> send(const Target& target, std::string_view request_head, RequestBody body,
                        Clock::time_point deadline, Exchange& out, bool head_request = false) {
    return send_head(target, request_head, HeadTail{}, body, deadline, out, head_request);
  }

  // Reads the next piece of the body into [data, data+size); returns bytes read (0 + done() at end).
  Task<std::pair<error_code, std::size_t>> read_body_chunk(Exchange& ex, char* data, std::size_t size,
                                                           Clock::time_point deadline);

  // Reads the remaining body into `out` (up to `limit` bytes; http::error::body_limit past it).
  Task<error_code> read_body(Exchange& ex, std::string& out, std::size_t limit, Clock::time_point deadline);

  // Returns the connection to its pool if the response completed with keep-alive; closes it otherwise.
  void finish(Exchange& ex);

  // Ends every call of `group` now (its client went away): their sockets close and the pending
  // operations fail with operation_aborted. Returns how many connections were cut.
  std::size_t cancel(const void* group) { return deadlines_.cancel_group(group); }

  std::size_t idle_connections() const;
  // Drops idle connections that expired or that the backend closed; returns how many.
  std::size_t sweep_idle() { return sweep(Clock::now()); }

  // Whether an idle pooled socket is still clean: no unsolicited bytes (a desynchronised or
  // smuggled response) and no EOF from the backend. One non-blocking MSG_PEEK.
  static bool idle_socket_clean(int fd);

 private:
  // Whether a pooled connection is still clean: its idle watch found nothing, or else the probe above.
  static bool idle_clean(Connection& conn);
  // Sends the pending ACK now and stops delaying ACKs, once per exchange (see send()).
  static void quick_ack(Connection& conn);
  // Keeps a 1-byte MSG_PEEK receive pending on a connection whose whole response is in: like the read
  // handler nginx keeps on its cached upstream connections, it completes only when the backend sends
  // more or closes, which marks the connection dirty, and taking the connection from the pool cancels
  // it; so reuse needs no probe syscall. Only correct in the handler turn whose receive drained the
  // socket (see httpio::receive_when_ready); connections not watched are probed when taken.
  static void watch_idle(Connection& conn);
  // `head` then `tail` make the request head; `head` must outlive the call.
  Task<error_code> send_head(const Target& target, std::string_view head, HeadTail tail, RequestBody body,
                             Clock::time_point deadline, Exchange& out, bool head_request);
  // Writes the head, then the body's pieces as its source yields them (chunked or as they are).
  Task<error_code> write_streamed(Connection& conn, std::string_view head, std::string_view tail,
                                  RequestBody body, Exchange& out);
  // dns_seconds: set to the time spent resolving, when a name was resolved.
  Task<std::pair<error_code, std::unique_ptr<Connection>>> connect(const Target& target,
                                                                   const std::string& key,
                                                                   Clock::time_point deadline,
                                                                   double& dns_seconds,
                                                                   const void* cancel_group);
  Task<std::pair<error_code, httpio::Resolver::results_type>> resolve(const Target& target,
                                                                      double& dns_seconds);
  std::unique_ptr<Connection> take_idle(const std::string& key);

  struct DnsEntry {
    httpio::Resolver::results_type results;
    Clock::time_point expires;
  };

  // A transfer error, or beast's timeout when the connection's deadline passed during it.
  static error_code timed(const Connection& conn, error_code ec);

  Executor executor_;
  Options options_;
  httpio::Resolver resolver_;
  deadline::Deadlines deadlines_;  // before the pools: pooled connections' watches unlink from it
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
  std::unordered_map<std::string, DnsEntry> dns_;
  // Drops idle connections past idle_timeout or closed by the backend, at most once a second
  // (from finish), so their descriptors do not wait for the next request to that very host.
  std::size_t sweep(Clock::time_point now);
  Clock::time_point last_sweep_{};
};

}  // namespace gw::upstream
