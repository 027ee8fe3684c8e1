#include "server/server.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "httpio/httpio.h"
#include "server/http1.h"
#include "server/request_guard.h"

namespace gw::server {

namespace {
using httpio::use_tuple;
using tcp = asio::ip::tcp;
using httpio::Socket;

// Sessions of one worker, so a drain can close the idle ones.
struct Session {
  Socket* stream = nullptr;
  bool busy = false;
};

struct WorkerState {
  std::list<Session> sessions;
  std::unique_ptr<httpio::Acceptor> acceptor;
};

std::atomic<std::size_t> g_connections{0};

}  // namespace

namespace {
// A positive integer from the environment, or nullopt (unset or unparsable).
std::optional<std::size_t> env_size(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (*end || n == 0) return std::nullopt;
  return static_cast<std::size_t>(n);
}
}  // namespace

Limits limits_from_environment(Limits limits) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rlimit raised{rl.rlim_max, rl.rlim_max};
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    if (rl.rlim_cur != RLIM_INFINITY)
      limits.max_connections =
          std::min<std::size_t>(limits.max_connections, std::max<rlim_t>(rl.rlim_cur / 2, 1));
  }
  if (auto n = env_size("GATEWAY_MAX_CONNECTIONS")) limits.max_connections = *n;
  if (auto n = env_size("GATEWAY_MAX_URI_BYTES")) limits.max_target_bytes = *n;
  return limits;
}

std::string_view Worker::http_date() {
  const std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    date_.assign(buf, n);
    date_second_ = now;
  }
  return date_;
}

std::string_view reason(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return http::obsolete_reason(static_cast<http::status>(status));
  }
}

class ConnectionSlot;

struct Server::Impl {
  Options options;
  std::shared_ptr<Handler> handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<WorkerState>> states;
  asio::io_context signals_io{1};
  std::atomic<bool> stopping{false};

  Task<void> session(Worker& worker, WorkerState& state, Socket socket, ConnectionSlot slot);
  Task<void> accept_loop(Worker& worker, WorkerState& state);
  void drain(Worker& worker, WorkerState& state);
};

namespace {

// Minimal error response sent before closing a connection whose request could not be read.
Task<void> reject(Worker& worker, Socket& stream, deadline::Watch& watch, unsigned status) {
  const std::string body = std::to_string(status) + " " + std::string(reason(status));
  static constexpr std::array<Header, 1> kFields{Header{"Content-Type", "text/plain; charset=utf-8"}};
  std::string head = response_head(worker, status, kFields, {}, static_cast<long long>(body.size()), false);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  watch.arm(worker.deadlines, stream, Clock::now() + std::chrono::seconds(5));
  co_await asio::async_write(stream, buffers, use_tuple);
}

bool expects_continue(const RequestParser& parser) {
  auto it = parser.get().find(http::field::expect);
  return it != parser.get().end() && beast::iequals(it->value(), "100-continue");
}

// Errors that mean the client went away or was too slow: close without an answer.
bool quiet_error(const boost::system::error_code& ec) {
  // A passed deadline closes the socket: the pending read ends aborted, a later one on a bad descriptor.
  return ec == beast::error::timeout || ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor;
}

std::string_view view(const beast::flat_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

constexpr std::size_t kReadChunk = 16384;
constexpr std::size_t kUnreadBodySkip = 256 << 10;  // Go's maxPostHandlerReadBytes

// Watches a client connection while its request is handled, as Go's server does with its
// background read: a close or reset calls Exchange::on_client_gone. Bytes of a pipelined next
// request end the watch without a word. The wait is a reactor wait, not a read: nothing is consumed.
class ClientWatch {
 public:
  explicit ClientWatch(Socket& stream) : stream_(stream) {}
  void start(Exchange& ex) {
    ex_ = &ex;
    if (!pending_) wait();
  }
  // The request is answered: stop calling back (the wait itself ends when the socket is cancelled).
  void stop() {
    ex_ = nullptr;
    if (pending_) {
      boost::system::error_code ignored;
      stream_.cancel(ignored);
    }
  }
  bool pending() const { return pending_; }

 private:
  void wait() {
    pending_ = true;
    stream_.async_wait(Socket::wait_read, [this](const boost::system::error_code& ec) { woke(ec); });
  }
  void woke(const boost::system::error_code& ec) {
    pending_ = false;
    if (ec || !ex_) return;
    char byte;
    const ssize_t n = ::recv(stream_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return;  // the next request is arriving: the client is still there
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return wait();
    Exchange& gone = *std::exchange(ex_, nullptr);
    if (gone.on_client_gone) gone.on_client_gone(gone);
  }
  Socket& stream_;
  Exchange* ex_ = nullptr;
  bool pending_ = false;
};

}  // namespace

// Counts a connection from accept until its session ends, even if the session never starts.
class ConnectionSlot {
 public:
  ConnectionSlot() { g_connections.fetch_add(1, std::memory_order_relaxed); }
  ConnectionSlot(ConnectionSlot&& o) noexcept : owns_(std::exchange(o.owns_, false)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (owns_) g_connections.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  bool owns_ = true;
};

void Exchange::deadline_after(Clock::duration after) {
  if (deadline) deadline->arm(worker.deadlines, stream, Clock::now() + after);
}

std::string client_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

Task<void> Server::Impl::session(Worker& worker, WorkerState& state, Socket stream, ConnectionSlot) {
  boost::system::error_code ec;
  stream.set_option(tcp::no_delay(true), ec);
  auto peer = stream.remote_endpoint(ec);
  std::string peer_ip = ec ? std::string() : client_address(peer.address());
  deadline::Watch watch;  // the connection's read and write deadlines
  state.sessions.push_front(Session{&stream, false});
  auto self = state.sessions.begin();
  struct Unregister {
    std::list<Session>& list;
    std::list<Session>::iterator it;
    ~Unregister() { list.erase(it); }
  } unregister{state.sessions, self};

  const Limits& limits = options.limits;
  // Bounded: a head never exceeds max_header_bytes, and bodies are consumed as they are parsed,
  // so a client cannot grow this (e.g. with an endless chunk extension) past the limit.
  beast::flat_buffer buffer(limits.max_header_bytes + kReadChunk);
  ClientWatch client_watch(stream);
  bool first = true;
  alignas(std::max_align_t) char arena[4096];
  while (!worker.draining.load(std::memory_order_relaxed)) {
    std::pmr::monotonic_buffer_resource fields_memory(arena, sizeof arena);
    RequestParser parser(std::piecewise_construct, std::make_tuple(),
                         std::make_tuple(FieldAllocator(&fields_memory)));
    configure(parser, limits);
    HeadScanner scanner(limits);
    self->busy = false;
    // Idle keep-alive wait until the first byte; from then on the whole head must arrive within
    // read_header_timeout however slowly it trickles (slowloris).
    bool idle = !first && buffer.size() == 0;
    watch.arm(worker.deadlines, stream,
              Clock::now() + (idle ? limits.idle_timeout : limits.read_header_timeout));
    HeadResult head;
    boost::system::error_code rec;
    while ((head = parse_request_head(view(buffer), scanner, parser, limits)).state ==
           HeadScanner::State::need_more) {
      if (idle && worker.draining.load(std::memory_order_relaxed)) break;
      const std::size_t room = buffer.max_size() - buffer.size();
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(std::min(room, kReadChunk)), use_tuple);
      if (ec) {
        rec = ec;
        break;
      }
      buffer.commit(n);
      if (idle) {
        idle = false;
        watch.arm(worker.deadlines, stream, Clock::now() + limits.read_header_timeout);
      }
    }
    self->busy = true;
    first = false;
    if (head.state == HeadScanner::State::reject) {
      co_await reject(worker, stream, watch, head.status);
      break;
    }
    if (head.state != HeadScanner::State::complete) {
      if (rec && !quiet_error(rec)) co_await reject(worker, stream, watch, 400);
      break;
    }
    buffer.consume(head.consumed);
    watch.disarm();
    // The body, if any is still to come, is the handler's to read: streamed to a backend as it
    // arrives, or read whole (read_whole_body). Its pieces go through the request's body string.
    Request& request = parser.get();
    Exchange ex{request, stream, worker,  peer_ip, Clock::now(), request.keep_alive(),
                0,       0,      nullptr, nullptr, nullptr,      {}};
    ex.deadline = &watch;
    std::optional<Http1RequestBody> body;
    if (!parser.is_done()) {
      body.emplace(stream, buffer, parser, watch, worker, limits.read_timeout, expects_continue(parser));
      ex.body = &*body;
    }
    Http1Response response(ex);
    ex.response = &response;
    // Only when something would be told: the watch costs a reactor wait per request.
    const bool watched = buffer.size() == 0;  // pipelined bytes already here: no close to see
    if (watched) client_watch.start(ex);
    bool usable = co_await handler->handle(ex);
    if (watched) client_watch.stop();
    // A body the handler left unread: skip a little of it, as Go's server does, else close. A client
    // still waiting for 100 Continue sends nothing more: close (a late 100 would follow the response).
    if (body && body->awaiting_continue()) ex.keep_alive = false;
    if (usable && ex.keep_alive && ex.body && !ex.body->done()) {
      std::size_t skipped = 0;
      while (!ex.body->done() && skipped <= kUnreadBodySkip) {
        auto [bec, piece] = co_await ex.body->next();
        if (bec) break;
        skipped += piece.size();
      }
      if (!ex.body->done()) ex.keep_alive = false;
    }
    if (!usable || !ex.keep_alive) break;
  }
  stream.shutdown(Socket::shutdown_send, ec);
  stream.close(ec);
  // The watch's last completion refers to this frame: let it run before the frame goes.
  while (client_watch.pending()) co_await asio::post(stream.get_executor(), use_tuple);
}

Task<void> Server::Impl::accept_loop(Worker& worker, WorkerState& state) {
  while (true) {
    auto [ec, socket] = co_await state.acceptor->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state.acceptor->is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      httpio::Timer t(worker.io, std::chrono::milliseconds(10));
      co_await t.async_wait(use_tuple);
      continue;
    }
    if (g_connections.load(std::memory_order_relaxed) >= options.limits.max_connections) {
      // Over the limit: a best-effort 503 that never blocks the accept loop, then close.
      static constexpr std::string_view k503 =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      [[maybe_unused]] auto sent =
          ::send(socket.native_handle(), k503.data(), k503.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      boost::system::error_code ignored;
      socket.shutdown(Socket::shutdown_send, ignored);
      continue;  // the socket closes here
    }
    asio::co_spawn(worker.io, session(worker, state, std::move(socket), ConnectionSlot()), asio::detached);
  }
}

void Server::Impl::drain(Worker& worker, WorkerState& state) {
  worker.draining = true;
  boost::system::error_code ec;
  if (state.acceptor) state.acceptor->close(ec);
  for (auto& s : state.sessions)
    if (!s.busy) s.stream->cancel(ec);
}

Server::Server(Options options, std::shared_ptr<Handler> handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->options.limits = limits_from_environment(impl_->options.limits);
  impl_->handler = std::move(handler);
  unsigned n =
      impl_->options.workers ? impl_->options.workers : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl_->workers.push_back(std::make_unique<Worker>(i));
    impl_->states.push_back(std::make_unique<WorkerState>());
  }
}

Server::~Server() {
  // Order matters after a hard stop: coroutine frames still parked in an io_context unregister
  // their sessions when destroyed, so the session lists must outlive the io_contexts.
  for (auto& st : impl_->states) st->acceptor.reset();
  impl_->workers.clear();
  impl_->states.clear();
}

void Server::bind() {
  const auto& o = impl_->options;
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  if (o.listen_ip.empty()) {
    endpoint = tcp::endpoint(tcp::v6(), o.port);
  } else {
    endpoint = tcp::endpoint(asio::ip::make_address(o.listen_ip), o.port);
  }
  unsigned short port = o.port;
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    auto acceptor = std::make_unique<httpio::Acceptor>(impl_->workers[i]->io);
    auto ep = endpoint;
    ep.port(port);
    acceptor->open(ep.protocol(), ec);
    if (ec && o.listen_ip.empty()) {  // no IPv6 on this host: fall back to IPv4 any
      ep = tcp::endpoint(tcp::v4(), port);
      acceptor->open(ep.protocol(), ec);
    }
    if (ec) throw std::system_error(ec, "listen: open socket");
    if (ep.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
    acceptor->set_option(httpio::Acceptor::reuse_address(true));
    int one = 1;
    ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor->bind(ep, ec);
    if (ec)
      throw std::system_error(ec, "listen tcp " + (o.listen_ip.empty() ? std::string() : o.listen_ip) + ":" +
                                      std::to_string(port));
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, "listen");
    port = acceptor->local_endpoint().port();  // port 0: every worker shares the first one's port
    impl_->states[i]->acceptor = std::move(acceptor);
  }
  bound_port_ = port;
}

void Server::stop() {
  asio::post(impl_->signals_io, [this] {
    impl_->stopping = true;
    impl_->signals_io.stop();
  });
}

int Server::run() {
  if (!bound_port_) bind();
  auto& impl = *impl_;
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<std::atomic<bool>>> finished;
  for (std::size_t i = 0; i < impl.workers.size(); ++i) {
    Worker& w = *impl.workers[i];
    WorkerState& st = *impl.states[i];
    impl.handler->attach(w);
    asio::co_spawn(w.io, impl.accept_loop(w, st), asio::detached);
    finished.push_back(std::make_unique<std::atomic<bool>>(false));
    threads.emplace_back([&w, i, done = finished.back().get()] {
      const std::string name = "gw-worker-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // names in top -H, perf, /proc
      w.io.run();
      done->store(true);
    });
  }

  asio::signal_set signals(impl.signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) impl.stopping = true;
  });
  impl.signals_io.run();
  signals.cancel();

  for (std::size_t i = 0; i < impl.workers.size(); ++i) {
    Worker& w = *impl.workers[i];
    WorkerState& st = *impl.states[i];
    asio::post(w.io, [&impl, &w, &st] { impl.drain(w, st); });
  }
  const auto wait = impl.options.max_shutdown_wait;
  const auto deadline = wait.count() > 0 ? Clock::now() + wait : Clock::time_point::max();
  bool clean = true;
  for (;;) {
    bool all = true;
    for (auto& f : finished) all = all && f->load();
    if (all) break;
    if (Clock::now() >= deadline) {
      clean = false;
      for (auto& w : impl.workers) w->io.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : threads) t.join();
  return clean ? 0 : 1;
}

}  // namespace gw::server
