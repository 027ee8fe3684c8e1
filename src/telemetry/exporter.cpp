// Batching span exporters. Workers encode finished traces into their own lane's byte buffer (a mutex
// only the flusher ever contends, for one buffer swap per flush), a background thread frames and sends
// them with a hard deadline. A dead or hanging agent therefore costs dropped spans (counted), never request
// latency.
#include <pthread.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "httpio/httpio.h"
#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

#ifndef GATEWAY_KRAKEND_VERSION
#define GATEWAY_KRAKEND_VERSION "dev"
#endif

namespace gw::telemetry {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::optional<Endpoint> Endpoint::parse_url(std::string_view url) {
  Endpoint e;
  if (url.substr(0, 7) == "unix://") {
    e.unix_path = std::string(url.substr(7));
    return e.unix_path.empty() ? std::nullopt : std::optional(e);
  }
  std::uint16_t default_port = 80;
  if (url.substr(0, 7) == "http://")
    url.remove_prefix(7);
  else
    return std::nullopt;  // https to a local agent is not a thing; refuse rather than guess
  if (auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  e.port = default_port;
  std::string_view host = url;
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = url.substr(1, close - 1);
    url.remove_prefix(close + 1);
    if (!url.empty() && url.front() == ':') e.port = static_cast<std::uint16_t>(std::atoi(url.data() + 1));
  } else if (auto c = url.rfind(':'); c != std::string_view::npos) {
    host = url.substr(0, c);
    e.port = static_cast<std::uint16_t>(std::atoi(std::string(url.substr(c + 1)).c_str()));
  }
  if (host.empty() || e.port == 0) return std::nullopt;
  e.host = std::string(host);
  return e;
}

Endpoint Endpoint::datadog_from_env(const EnvFn& env) {
  if (const char* url = env("DD_TRACE_AGENT_URL"); url && *url) {
    if (auto e = parse_url(url)) return *e;
  }
  Endpoint e;
  if (const char* h = env("DD_AGENT_HOST"); h && *h) e.host = h;
  if (const char* p = env("DD_TRACE_AGENT_PORT"); p && *p) {
    int port = std::atoi(p);
    if (port > 0 && port < 65536) e.port = static_cast<std::uint16_t>(port);
  }
  return e;
}

namespace {

struct HttpResult {
  int status = 0;  // 0: transport error or deadline
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

std::size_t total_size(const std::vector<std::string_view>& pieces) {
  std::size_t n = 0;
  for (auto p : pieces) n += p.size();
  return n;
}

// One HTTP/1.1 connection to the agent or collector, kept open between flushes (the agent is a Go
// net/http server: keep-alive). Only the flusher thread uses it. Each call has one deadline for
// everything (resolve, connect, write, read); when it fires, the connection and its io_context are
// discarded and the next call starts afresh.
class AgentClient {
 public:
  AgentClient(const Endpoint& ep, std::chrono::milliseconds timeout) : ep_(ep), timeout_(timeout) {}

  // The body is gathered from `body` as it lies (the lane buffers): no copy into a request object.
  HttpResult call(std::string_view method, std::string_view target, const Headers& headers,
                  const std::vector<std::string_view>& body) {
    std::string head;
    head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
    head.append(ep_.unix_path.empty() ? ep_.host + ':' + std::to_string(ep_.port) : "localhost")
        .append("\r\n");
    for (const auto& [k, v] : headers) head.append(k).append(": ").append(v).append("\r\n");
    head.append("Content-Length: ").append(std::to_string(total_size(body))).append("\r\n\r\n");
    std::vector<asio::const_buffer> request;
    request.reserve(body.size() + 1);
    request.push_back(asio::buffer(head));
    for (std::string_view piece : body)
      if (!piece.empty()) request.push_back(asio::buffer(piece.data(), piece.size()));

    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    const bool reused = open();
    Attempt a = attempt(request, deadline);
    // A kept-alive connection the agent closed while idle fails before any response byte: that
    // request never reached a handler, so one retry on a fresh connection is safe.
    if (reused && a.state == Attempt::failed && !a.response_started) a = attempt(request, deadline);
    if (a.state != Attempt::done) return {};
    return std::move(a.result);
  }

 private:
  struct Attempt {
    enum { pending, failed, done } state = pending;
    bool response_started = false;
    HttpResult result;
  };

  bool open() const { return (tcp_ && tcp_->is_open()) || (unix_ && unix_->is_open()); }

  void reset() {  // fresh, closed sockets on the current io_context
    tcp_.emplace(*ioc_);
    unix_.emplace(*ioc_);
    buf_.clear();
  }

  template <class Socket>
  asio::awaitable<void> exchange(Socket& sock, const std::vector<asio::const_buffer>& request, Attempt& a) {
    auto [wec, _] = co_await asio::async_write(sock, request, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    const auto rec = co_await httpio::read(sock, buf_, parser);  // httpio: a field of 64 KiB is an error
    a.response_started = parser.got_some() || buf_.size() > 0;
    if (rec) co_return;
    a.result.status = static_cast<int>(parser.get().result_int());
    a.result.body = std::move(parser.get().body());
    a.state = Attempt::done;
    if (!parser.keep_alive()) {
      boost::system::error_code ignored;
      sock.close(ignored);
    }
  }

  asio::awaitable<void> run(const std::vector<asio::const_buffer>& request, Attempt& a) {
    if (!ep_.unix_path.empty()) {
      if (!unix_->is_open()) {
        auto [ec] = co_await unix_->async_connect(asio::local::stream_protocol::endpoint(ep_.unix_path),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
      co_await exchange(*unix_, request, a);
      co_return;
    }
    if (!tcp_->is_open()) {
      asio::ip::tcp::resolver resolver(*ioc_);
      auto [rec, results] = co_await resolver.async_resolve(ep_.host, std::to_string(ep_.port),
                                                            asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
      auto [cec, _] = co_await asio::async_connect(*tcp_, results, asio::as_tuple(asio::use_awaitable));
      if (cec) co_return;
    }
    co_await exchange(*tcp_, request, a);
  }

  Attempt attempt(const std::vector<asio::const_buffer>& request,
                  std::chrono::steady_clock::time_point deadline) {
    Attempt a;
    if (!ioc_) {
      ioc_ = std::make_unique<asio::io_context>();
      reset();
    }
    asio::co_spawn(*ioc_, run(request, a), [&a](std::exception_ptr) {
      if (a.state == Attempt::pending) a.state = Attempt::failed;
    });
    ioc_->run_until(deadline);
    if (a.state == Attempt::pending) {
      // Deadline: drop the io_context with whatever is pending in it (a hung resolve included).
      tcp_.reset();
      unix_.reset();
      ioc_.reset();
      return a;
    }
    ioc_->restart();
    if (a.state != Attempt::done) reset();  // a failed exchange leaves the stream in an unknown state
    return a;
  }

  const Endpoint& ep_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<asio::ip::tcp::socket> tcp_;  // both live on ioc_
  std::optional<asio::local::stream_protocol::socket> unix_;
  boost::beast::flat_buffer buf_;
};

class BatchingExporter : public SpanExporter {
 public:
  explicit BatchingExporter(Endpoint ep, ServiceInfo info, ExporterOptions o)
      : ep_(std::move(ep)),
        info_(std::move(info)),
        opts_(o),
        client_(ep_, o.timeout),
        lanes_(std::max(1u, o.lanes)) {
    for (unsigned i = 0; i < lanes_.size(); ++i) lanes_[i] = std::make_unique<Lane>();
    spare_.resize(lanes_.size());
  }

  // Encodes the trace into the lane's buffer right away, on the worker that built it: the tracer can
  // then recycle the spans on that thread, and the flusher only frames and sends bytes. The lane lock
  // is shared with the flusher's buffer swap only.
  void submit(std::span<const Span> trace, unsigned lane) override {
    const std::size_t n = trace.size();
    Lane& l = *lanes_[lane % lanes_.size()];
    bool wake = false;
    {
      std::lock_guard g(l.m);
      if (stopped_.load(std::memory_order_relaxed) || l.q.spans + n > opts_.max_queued_spans) {
        dropped_.fetch_add(n, std::memory_order_relaxed);
        return;
      }
      encode_trace(trace, l.q.bytes);
      l.q.traces.push_back({l.q.bytes.used, n});
      wake = l.q.spans < opts_.flush_spans && l.q.spans + n >= opts_.flush_spans;
      l.q.spans += n;
    }
    if (wake) {
      wake_flag_.store(true, std::memory_order_relaxed);
      wake_cv_.notify_one();
    }
  }
  std::uint64_t dropped_spans() const override { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t sent_spans() const override { return sent_.load(std::memory_order_relaxed); }

  void shutdown() override {
    {
      std::lock_guard g(wake_m_);
      if (stop_) return;
      stop_ = true;
    }
    wake_cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 protected:
  void start() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "gw-trace-flush");
      run();
    });
  }
  // On the submitting worker, under its lane lock: appends one trace in the wire encoding.
  virtual void encode_trace(std::span<const Span> trace, detail::ByteBuffer& out) const = 0;
  // On the flusher thread: `traces` encoded traces (the concatenation of `encoded`). Returns true if the
  // agent accepted them.
  virtual bool send(const std::vector<std::string_view>& encoded, std::size_t traces) = 0;

  Endpoint ep_;
  ServiceInfo info_;
  ExporterOptions opts_;
  AgentClient client_;  // flusher thread only

 private:
  struct TraceEnd {
    std::size_t end;  // offset just past the trace in bytes
    std::size_t spans;
  };
  struct Queue {
    detail::ByteBuffer bytes;  // the encoded traces
    std::vector<TraceEnd> traces;
    std::size_t spans = 0;
    void clear() {
      bytes.clear();
      traces.clear();
      spans = 0;
    }
  };
  struct alignas(64) Lane {
    std::mutex m;
    Queue q;
  };

  void run() {
    std::vector<std::string_view> chunk;  // pieces of the swapped-out lane buffers
    for (bool stopping = false; !stopping;) {
      {
        std::unique_lock lk(wake_m_);
        wake_cv_.wait_for(lk, opts_.flush_interval, [&] { return stop_ || wake_flag_.load(); });
        wake_flag_.store(false);
        stopping = stop_;
      }
      if (stopping) stopped_.store(true);  // later submits drop instead of queueing forever
      for (std::size_t i = 0; i < lanes_.size(); ++i) {
        // Swap in last round's emptied queue so the lane keeps its capacity (no allocation).
        std::lock_guard g(lanes_[i]->m);
        std::swap(lanes_[i]->q, spare_[i]);
      }
      // Bounded payloads: a backlog after an outage goes out in several requests.
      std::size_t traces = 0, spans = 0;
      auto flush = [&] {
        if (traces == 0) return;
        (send(chunk, traces) ? sent_ : dropped_).fetch_add(spans, std::memory_order_relaxed);
        chunk.clear();
        traces = spans = 0;
      };
      for (Queue& q : spare_) {
        const std::string_view bytes = q.bytes.view();
        std::size_t begin = 0, end = 0;
        for (const TraceEnd& t : q.traces) {
          end = t.end;
          ++traces;
          spans += t.spans;
          if (spans >= 5000) {
            chunk.push_back(bytes.substr(begin, end - begin));
            begin = end;
            flush();
          }
        }
        if (end > begin) chunk.push_back(bytes.substr(begin, end - begin));
      }
      flush();
      for (Queue& q : spare_) q.clear();
    }
  }

  std::vector<std::unique_ptr<Lane>> lanes_;
  std::vector<Queue> spare_;
  std::thread thread_;
  std::mutex wake_m_;
  std::condition_variable wake_cv_;
  std::atomic<bool> wake_flag_{false}, stopped_{false};
  bool stop_ = false;
  std::atomic<std::uint64_t> dropped_{0}, sent_{0};
};

class DatadogExporter final : public BatchingExporter {
 public:
  DatadogExporter(Endpoint ep, ServiceInfo info, ExporterOptions o) : BatchingExporter(ep, info, o) {
    start();
  }
  ~DatadogExporter() override { shutdown(); }
  double agent_sample_rate() const override { return rate_.load(std::memory_order_relaxed); }

 private:
  void encode_trace(std::span<const Span> trace, detail::ByteBuffer& out) const override {
    detail::encode_v04_trace_at(out, trace);
  }
  bool send(const std::vector<std::string_view>& encoded, std::size_t traces) override {
    Headers h{{"Content-Type", "application/msgpack"},
              {"Datadog-Meta-Lang", "cpp"},
              {"Datadog-Meta-Lang-Version", std::to_string(__cplusplus)},
              {"Datadog-Meta-Lang-Interpreter", "gcc"},
              {"Datadog-Meta-Tracer-Version", GATEWAY_KRAKEND_VERSION},
              {"X-Datadog-Trace-Count", std::to_string(traces)}};
    const std::string prefix = detail::v04_payload_prefix(traces);
    std::vector<std::string_view> body;
    body.reserve(encoded.size() + 1);
    body.push_back(prefix);
    body.insert(body.end(), encoded.begin(), encoded.end());
    HttpResult r = client_.call("PUT", "/v0.4/traces", h, body);
    if (r.status != 200) return false;
    read_rates(r.body);
    return true;
  }

  // {"rate_by_service":{"service:<svc>,env:<env>":0.5,"service:,env:":1}}
  void read_rates(const std::string& body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return;
    const auto* rates = v.as_object().if_contains("rate_by_service");
    if (!rates || !rates->is_object()) return;
    for (const std::string& key :
         {"service:" + info_.service + ",env:" + info_.env, std::string("service:,env:")}) {
      if (const auto* r = rates->as_object().if_contains(key); r && r->is_number()) {
        rate_.store(r->to_number<double>(), std::memory_order_relaxed);
        return;
      }
    }
  }
  std::atomic<double> rate_{-1};
};

class OtlpHttpExporter final : public BatchingExporter {
 public:
  OtlpHttpExporter(Endpoint ep, ServiceInfo info, ExporterOptions o) : BatchingExporter(ep, info, o) {
    start();
  }
  ~OtlpHttpExporter() override { shutdown(); }

 private:
  void encode_trace(std::span<const Span> trace, detail::ByteBuffer& out) const override {
    out.bytes.resize(out.used);  // the JSON encoder appends to the string
    detail::encode_otlp_spans_into(out.bytes, trace);
    out.used = out.bytes.size();
  }
  bool send(const std::vector<std::string_view>& encoded, std::size_t) override {
    Headers h{{"Content-Type", "application/json"}};
    const std::string prefix = detail::otlp_payload_prefix(info_);
    std::vector<std::string_view> body{prefix};
    for (std::string_view piece : encoded)
      body.push_back(body.size() == 1 ? detail::otlp_first_piece(piece) : piece);
    body.push_back(detail::otlp_payload_suffix());
    HttpResult r = client_.call("POST", "/v1/traces", h, body);
    return r.status >= 200 && r.status < 300;
  }
};

}  // namespace

std::unique_ptr<SpanExporter> make_datadog_exporter(Endpoint agent, ServiceInfo info, ExporterOptions opts) {
  return std::make_unique<DatadogExporter>(std::move(agent), std::move(info), opts);
}

std::unique_ptr<SpanExporter> make_otlp_http_exporter(Endpoint collector, ServiceInfo info,
                                                      ExporterOptions opts) {
  return std::make_unique<OtlpHttpExporter>(std::move(collector), std::move(info), opts);
}

}  // namespace gw::telemetry
