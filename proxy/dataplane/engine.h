// Engine: the data plane's internals shared by its .cpp files (Boost.Asio lives here, not in
// data_plane.h): the active config with its live clusters, worker threads with their
// io_context and upstream connection pools, listener sockets, deadlines and the coroutines
// that serve connections. Each Worker is touched only from its own thread, except the atomics.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "proxy/dataplane/cluster_runtime.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/dns_refresher.h"
#include "proxy/dataplane/filter_chain_select.h"
#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/tls_context.h"
#include "proxy/dataplane/transport.h"

namespace mesh::proxy::dataplane {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ActiveConfig {
  std::shared_ptr<const RuntimeConfig> config;
  std::map<std::string, std::shared_ptr<ClusterRuntime>, std::less<>> clusters;
  ClusterRuntime* cluster(std::string_view name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : it->second.get();
  }
};

// Where a connection's reads land before they join its parse buffer. It lives with the
// connection: as a 16 KiB array in a coroutine frame it made every read allocate that frame
// (Asio recycles only small frames), and glibc then trimmed and re-faulted heap pages.
class ReadChunk {
 public:
  static constexpr size_t kSize = 16 * 1024;
  asio::mutable_buffer buffer() {
    if (!data_) data_ = std::make_unique_for_overwrite<char[]>(kSize);
    return asio::buffer(data_.get(), kSize);
  }
  std::string_view first(size_t n) const { return {data_.get(), n}; }

 private:
  std::unique_ptr<char[]> data_;
};

struct UpstreamConnection {
  explicit UpstreamConnection(const asio::any_io_executor& ex) : socket(ex) {}
  Transport socket;  // plain TCP or TLS
  std::string buffer;  // bytes read but not parsed yet
  ReadChunk chunk;
  uint32_t requests = 0;
  std::shared_ptr<ClusterRuntime> runtime;  // outlives the guard on its counter
  ResourceGuard connectionGuard;
  std::string poolKey;
  std::string peerPrincipal;  // TLS: the server certificate's first URI SAN, once verified
  std::string alpn;           // TLS: the protocol ALPN chose ("h2", "http/1.1", ""), auto_config's codec
  // The cluster's pool limits, set when connected: idle_timeout (0: none) and the end of
  // max_connection_duration; idleUntil is when the pool closes it while it waits there.
  std::chrono::milliseconds idleTimeout{0};
  std::chrono::steady_clock::time_point closeAt = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point idleUntil = std::chrono::steady_clock::time_point::max();
};

class Http2UpstreamPool;  // upstream_h2.cpp

// Idle keep-alive connections of one worker, per cluster and host. One timer for the whole
// pool closes connections idle past their idle_timeout or max_connection_duration: it is set
// only when nothing earlier is pending (no timer call per request; Envoy's default is 1 h).
class UpstreamPool {
 public:
  explicit UpstreamPool(asio::io_context& ioc) : sweepTimer_(ioc) {}
  std::shared_ptr<UpstreamConnection> takeIdle(const std::string& key);
  void putIdle(std::shared_ptr<UpstreamConnection> conn);
  void closeAll();

 private:
  static constexpr size_t kMaxIdlePerHost = 64;
  void armSweep(std::chrono::steady_clock::time_point when);
  void sweep();
  std::unordered_map<std::string, std::vector<std::shared_ptr<UpstreamConnection>>> idle_;
  asio::steady_timer sweepTimer_;
  bool sweepPending_ = false;
};

class IdleDeadline;
struct StreamIdle;

struct Downstream : std::enable_shared_from_this<Downstream> {
  explicit Downstream(tcp::socket s) : socket(std::move(s)) {}
  Transport socket;    // plain TCP, or TLS once the chain's handshake is done
  std::string buffer;  // read but not yet parsed (pipelined requests)
  ReadChunk chunk;
  ConnectionInfo info;
  std::shared_ptr<const TlsSession> tls;  // set after a TLS handshake
  bool inbound = false;  // accepted for an INBOUND listener (telemetry's reporter)
  // HTTP/1.1 (serveHttp): the connection's idle timer, which times the request being routed
  // (`streamIdle`, set by the router meanwhile) with its stream idle timeout.
  IdleDeadline* idleTimer = nullptr;
  StreamIdle* streamIdle = nullptr;
};

// Member order matters on destruction: the pool's sockets close while the io_context lives,
// and destroying the io_context destroys suspended coroutines, which still unregister from
// `connections`.
struct Worker {
  std::set<std::weak_ptr<Downstream>, std::owner_less<std::weak_ptr<Downstream>>> connections;
  asio::io_context ioc{1};
  UpstreamPool pool{ioc};
  std::shared_ptr<Http2UpstreamPool> http2Pool;  // h2c connections per endpoint, made on first use
  TlsContextCache* tlsContexts = nullptr;          // the Engine's, for upstream TLS
  std::mt19937_64 rng{std::random_device{}()};
  std::thread thread;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  uint32_t random() { return static_cast<uint32_t>(rng()); }
};

// Runs `onExpire` at `when` unless the Deadline is gone first. The handler holds only a
// shared state, so a coroutine may end while the timer is pending. `when` ==
// time_point::max() (no timeout, Istio's default route timeout) sets no timer at all.
class Deadline {
 public:
  Deadline(asio::io_context& ioc, std::chrono::steady_clock::time_point when, std::function<void()> onExpire);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool expired() const { return state_ && state_->expired; }

 private:
  struct State {
    explicit State(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    std::function<void()> onExpire;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
};

// A connection's idle timeout, re-armed for every request without touching the timer queue:
// arm() only moves a time point. The timer, once started, wakes at the earliest expiry it was
// armed for, then sleeps on until the latest one or runs `onExpire` (unless disarmed).
class IdleDeadline {
 public:
  IdleDeadline(asio::io_context& ioc, std::function<void()> onExpire);
  ~IdleDeadline();
  IdleDeadline(const IdleDeadline&) = delete;
  IdleDeadline& operator=(const IdleDeadline&) = delete;
  void arm(std::chrono::steady_clock::duration timeout);
  void disarm();

 private:
  struct State {
    explicit State(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool waiting = false;  // an async_wait is pending on `timer`
    std::function<void()> onExpire;
  };
  static void startWait(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

// A request's stream idle timeout (stream_idle_timeout, a route's idle_timeout) without a timer
// of its own: over HTTP/1.1 it runs on the connection's IdleDeadline, over HTTP/2 on one per
// stream. touch() on activity only moves a time point; once it passes, fire() ends what the
// request waits on now (`interrupt`: close the upstream connection, abandon the response).
struct StreamIdle {
  IdleDeadline* timer = nullptr;
  std::chrono::milliseconds timeout{0};  // 0: off
  std::function<void()> interrupt;
  bool fired = false;
  void touch() {
    if (timer != nullptr && timeout.count() > 0 && !fired) timer->arm(timeout);
  }
  void fire() {
    fired = true;
    std::function<void()> f;
    f.swap(interrupt);
    if (f) f();
  }
};

struct ListenerSocket {
  std::string name;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::string address;
  uint32_t port = 0;
  std::optional<LocalBind> localBind;  // set for --outbound-bind / --inbound-bind sockets
};

class Engine {
 public:
  explicit Engine(DataPlaneOptions options);

  DataPlaneOptions options;
  TlsContextCache tlsContexts{options.secrets};  // SSL contexts of TLS chains and upstreams
  std::vector<std::unique_ptr<Worker>> workers;
  DnsRefresher dns;  // addresses of STRICT_DNS / LOGICAL_DNS clusters, off the workers
  std::atomic<bool> running{false};
  std::atomic<bool> draining{false};
  std::atomic<uint32_t> activeFaults{0};

  std::atomic<uint64_t> downstreamConnections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> localReplies{0};
  std::atomic<uint64_t> upstreamRequests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> overflows{0};
  // Security filters (security_filters.cpp): RBAC decisions, HTTP and network, and JWT denials.
  std::atomic<uint64_t> rbacAllowed{0};
  std::atomic<uint64_t> rbacDenied{0};
  std::atomic<uint64_t> jwtDenied{0};
  std::atomic<uint64_t> extAuthzAllowed{0};  // ext_authz.cpp: checks made and their outcome
  std::atomic<uint64_t> extAuthzDenied{0};
  std::atomic<uint64_t> extAuthzErrors{0};

  std::shared_ptr<const ActiveConfig> active() const;
  void setActive(std::shared_ptr<const ActiveConfig> next);
  Worker& nextWorker() { return *workers[nextWorker_.fetch_add(1) % workers.size()]; }

  // Listener sockets: mutated only by the owning thread (apply / start / stop).
  std::mutex listenersMu;
  std::map<std::string, ListenerSocket> listeners;
  Result<void> bindListener(const std::string& name, const std::string& address, uint32_t port,
                            std::optional<LocalBind> localBind);
  void closeListener(ListenerSocket& socket);

 private:
  mutable std::mutex activeMu_;
  std::shared_ptr<const ActiveConfig> active_;
  std::atomic<size_t> nextWorker_{0};
};

// Accept loop of one listener socket: hands each connection to a worker.
asio::awaitable<void> acceptLoop(Engine& engine, std::shared_ptr<tcp::acceptor> acceptor,
                                 std::string listenerName, std::optional<LocalBind> localBind);
// Serves one accepted connection on its worker (listener hand-off, inspectors, filter chain).
asio::awaitable<void> serveConnection(Engine& engine, Worker& worker, tcp::socket socket,
                                      std::string listenerName, std::optional<LocalBind> localBind);
asio::awaitable<void> serveHttp(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                std::shared_ptr<const FilterChain> chain);
asio::awaitable<void> serveTcp(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                               std::shared_ptr<const FilterChain> chain);

class DownstreamStream;  // http_stream.h
// The router: serves one parsed request and sends the response to `stream` (an HTTP/1.1
// connection or an HTTP/2 stream). The body is `body` whole, or, when stream.bodyStreaming(),
// `body` is what arrived so far and the rest is read from the stream while it is sent
// upstream. Returns false when the downstream connection must close afterwards.
asio::awaitable<bool> routeRequest(Engine& engine, Worker& worker, DownstreamStream& stream,
                                   const HttpConnectionManagerConfig& hcm, RequestHead request,
                                   std::string body);

struct RelayBytes {
  uint64_t fromDownstream = 0;
  uint64_t toDownstream = 0;
};
// Copies bytes both ways between a downstream and an upstream socket until both directions
// end (half-closes pass through), or nothing moves for `idle`. First sends the bytes each
// side had already sent past the point of the switch. `keepAlive` lives as long as the relay.
// Returns the bytes that crossed each way, those first ones included.
asio::awaitable<RelayBytes> relayBothWays(Worker& worker, std::shared_ptr<Downstream> ds, Transport upstream,
                                    std::string toUpstream, std::string toDownstream,
                                    std::chrono::milliseconds idle, std::shared_ptr<void> keepAlive);

// Builds a local reply as Envoy sends one (content-type text/plain when there is a body).
std::string localReply(unsigned status, std::string_view body, const HttpConnectionManagerConfig* hcm,
                       bool close, const HeaderMap* extraHeaders = nullptr);
std::string httpDate();

}  // namespace mesh::proxy::dataplane
