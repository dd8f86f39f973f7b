// DataPlane and Engine: config swaps, listener sockets, worker threads, accept loops.
#include "proxy/dataplane/data_plane.h"

#include "proxy/dataplane/asio_includes.h"

#include <charconv>
#include <ctime>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/upstream_h2.h"
#include "proxy/dataplane/http1_codec.h"

namespace mesh::proxy::dataplane {

namespace {

Result<std::pair<std::string, uint16_t>> parseHostPort(std::string_view s, bool portOnlyOk, bool zeroOk = false) {
  size_t colon = s.rfind(':');
  std::string host;
  std::string_view port = s;
  if (colon != std::string_view::npos) {
    host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return fail(ErrorCode::Usage, "\"" + std::string(s) + "\" needs HOST:PORT");
  } else if (!portOnlyOk) {
    return fail(ErrorCode::Usage, "\"" + std::string(s) + "\" needs HOST:PORT");
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || (value == 0 && !zeroOk) || value > 65535) {
    return fail(ErrorCode::Usage, "\"" + std::string(s) + "\": bad port");
  }
  return std::make_pair(host, static_cast<uint16_t>(value));
}

// The --listener-bind given for a listener, if any (the last one wins, as flags do).
const ListenerBind* listenerBindFor(const std::vector<ListenerBind>& binds, const std::string& name) {
  const ListenerBind* found = nullptr;
  for (const auto& b : binds)
    if (b.listener == name) found = &b;
  return found;
}

}  // namespace

std::string localBindName(BindDirection direction, size_t index) {
  return (direction == BindDirection::Inbound ? "inbound-bind:" : "outbound-bind:") + std::to_string(index);
}

Result<LocalBind> parseLocalBind(const std::string& spec, BindDirection direction) {
  bool inbound = direction == BindDirection::Inbound;
  size_t eq = spec.find('=');
  if (eq == std::string::npos && !inbound) {
    return fail(ErrorCode::Usage, "outbound bind \"" + spec + "\" needs LISTEN_HOST:PORT=[ORIGINAL_HOST:]PORT");
  }
  auto listen = parseHostPort(std::string_view(spec).substr(0, eq), false);
  if (!listen) return Failure(listen.error());
  LocalBind out;
  out.direction = direction;
  out.listenAddress = listen->first;
  out.listenPort = listen->second;
  // An inbound connection's destination is the workload's own address unless one is given.
  out.originalAddress = inbound ? listen->first : "0.0.0.0";
  out.originalPort = listen->second;
  if (eq == std::string::npos) return out;
  auto target = parseHostPort(std::string_view(spec).substr(eq + 1), true);
  if (!target) return Failure(target.error());
  if (!target->first.empty()) out.originalAddress = target->first;
  out.originalPort = target->second;
  return out;
}

Result<ListenerBind> parseListenerBind(const std::string& spec) {
  size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    return fail(ErrorCode::Usage, "listener bind \"" + spec + "\" needs NAME=HOST:PORT or NAME=none",
                "e.g. virtualInbound=none or 0.0.0.0_8080=127.0.0.1:18080 (port 0: any free port)");
  }
  ListenerBind out;
  out.listener = spec.substr(0, eq);
  std::string target = spec.substr(eq + 1);
  if (target == "none") {
    out.disabled = true;
    return out;
  }
  auto hostPort = parseHostPort(target, false, true);
  if (!hostPort) return Failure(hostPort.error());
  boost::system::error_code ec;
  asio::ip::make_address(hostPort->first, ec);
  if (ec) return fail(ErrorCode::Usage, "listener bind \"" + spec + "\": \"" + hostPort->first + "\" is not an IP address");
  out.address = hostPort->first;
  out.port = hostPort->second;
  return out;
}

std::shared_ptr<UpstreamConnection> UpstreamPool::takeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    auto conn = std::move(list.back());
    list.pop_back();
    // A peer that closed an idle connection shows as readable with 0 bytes: drop it here
    // rather than fail a request on it.
    char probe;
    ssize_t n = ::recv(conn->socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    // Past its idle time (the sweep may run late): closed, as the sweep would have.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && std::chrono::steady_clock::now() < conn->idleUntil) {
      return conn;
    }
    boost::system::error_code ignored;
    conn->socket.close(ignored);
  }
  return nullptr;
}

void UpstreamPool::putIdle(std::shared_ptr<UpstreamConnection> conn) {
  auto now = std::chrono::steady_clock::now();
  if (now >= conn->closeAt) return;  // max_connection_duration reached: closes on destruction
  auto& list = idle_[conn->poolKey];
  if (list.size() >= kMaxIdlePerHost) return;  // dropped: closes on destruction
  conn->idleUntil = conn->closeAt;
  if (conn->idleTimeout.count() > 0) conn->idleUntil = std::min(conn->idleUntil, now + conn->idleTimeout);
  if (conn->idleUntil != std::chrono::steady_clock::time_point::max()) armSweep(conn->idleUntil);
  list.push_back(std::move(conn));
}

void UpstreamPool::armSweep(std::chrono::steady_clock::time_point when) {
  if (sweepPending_ && sweepTimer_.expiry() <= when) return;  // an earlier sweep looks again
  sweepPending_ = true;
  sweepTimer_.expires_at(when);  // cancels a later wait it replaces
  sweepTimer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // replaced, or the pool is closing
    sweepPending_ = false;
    sweep();
  });
}

void UpstreamPool::sweep() {
  auto now = std::chrono::steady_clock::now();
  auto next = std::chrono::steady_clock::time_point::max();
  for (auto& [key, list] : idle_) {
    std::erase_if(list, [&](const std::shared_ptr<UpstreamConnection>& conn) {
      if (conn->idleUntil > now) {
        next = std::min(next, conn->idleUntil);
        return false;
      }
      boost::system::error_code ignored;
      conn->socket.close(ignored);
      return true;
    });
  }
  std::erase_if(idle_, [](const auto& entry) { return entry.second.empty(); });
  if (next != std::chrono::steady_clock::time_point::max()) armSweep(next);
}

void UpstreamPool::closeAll() {
  sweepTimer_.cancel();
  sweepPending_ = false;
  idle_.clear();
}

Deadline::Deadline(asio::io_context& ioc, std::chrono::steady_clock::time_point when,
                   std::function<void()> onExpire) {
  if (when == std::chrono::steady_clock::time_point::max()) return;
  state_ = std::make_shared<State>(ioc);
  state_->onExpire = std::move(onExpire);
  state_->timer.expires_at(when);
  state_->timer.async_wait([st = state_](boost::system::error_code ec) {
    if (ec || !st->onExpire) return;
    st->expired = true;
    st->onExpire();
  });
}

Deadline::~Deadline() {
  if (!state_) return;
  state_->onExpire = nullptr;
  state_->timer.cancel();
}

IdleDeadline::IdleDeadline(asio::io_context& ioc, std::function<void()> onExpire)
    : state_(std::make_shared<State>(ioc)) {
  state_->onExpire = std::move(onExpire);
}

IdleDeadline::~IdleDeadline() {
  state_->onExpire = nullptr;
  state_->timer.cancel();
}

void IdleDeadline::arm(std::chrono::steady_clock::duration timeout) {
  state_->deadline = std::chrono::steady_clock::now() + timeout;
  // A pending wait that ends later than the new deadline is moved earlier.
  if (state_->waiting && state_->timer.expiry() <= state_->deadline) return;
  startWait(state_);
}

void IdleDeadline::disarm() { state_->deadline = std::chrono::steady_clock::time_point::max(); }

void IdleDeadline::startWait(const std::shared_ptr<State>& state) {
  state->waiting = true;
  state->timer.expires_at(state->deadline);  // cancels the wait it replaces
  state->timer.async_wait([st = state](boost::system::error_code ec) {
    if (ec || !st->onExpire) return;  // replaced by a newer wait, or the owner is gone
    st->waiting = false;
    if (st->deadline == std::chrono::steady_clock::time_point::max()) return;  // disarmed
    if (std::chrono::steady_clock::now() < st->deadline) {
      startWait(st);  // re-armed since this wait began
      return;
    }
    st->onExpire();
  });
}

Engine::Engine(DataPlaneOptions opts) : options(std::move(opts)) {
  unsigned n = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<Worker>());
    workers.back()->tlsContexts = &tlsContexts;
  }
  auto empty = std::make_shared<ActiveConfig>();
  empty->config = std::make_shared<RuntimeConfig>();
  active_ = std::move(empty);
}

std::shared_ptr<const ActiveConfig> Engine::active() const {
  std::lock_guard lock(activeMu_);
  return active_;
}

void Engine::setActive(std::shared_ptr<const ActiveConfig> next) {
  std::lock_guard lock(activeMu_);
  active_.swap(next);
  // `next` (the old config) is released outside any request: requests hold their own copy.
}

Result<void> Engine::bindListener(const std::string& name, const std::string& address, uint32_t port,
                                  std::optional<LocalBind> localBind) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return fail(ErrorCode::InvalidInput, "Listener " + name + ": bad address " + address);
  auto acceptor = std::make_shared<tcp::acceptor>(workers[0]->ioc);
  tcp::endpoint ep(ip, static_cast<uint16_t>(port));
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::Unavailable, "Listener " + name + ": cannot bind " + address + ":" +
                                            std::to_string(port) + ": " + ec.message());
  }
  ListenerSocket socket;
  socket.name = name;
  socket.acceptor = acceptor;
  socket.address = address;
  socket.port = acceptor->local_endpoint(ec).port();  // the real port when the config says 0
  socket.localBind = localBind;
  listeners[name] = socket;
  asio::co_spawn(workers[0]->ioc, acceptLoop(*this, acceptor, name, localBind), asio::detached);
  return {};
}

void Engine::closeListener(ListenerSocket& socket) {
  asio::post(workers[0]->ioc, [acceptor = socket.acceptor] {
    boost::system::error_code ignored;
    acceptor->close(ignored);
  });
}

asio::awaitable<void> acceptLoop(Engine& engine, std::shared_ptr<tcp::acceptor> acceptor,
                                 std::string listenerName, std::optional<LocalBind> localBind) {
  for (;;) {
    Worker& worker = engine.nextWorker();
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(worker.ioc, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    engine.downstreamConnections.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(worker.ioc, serveConnection(engine, worker, std::move(socket), listenerName, localBind),
                   asio::detached);
  }
}

std::string httpDate() {
  thread_local std::time_t cachedAt = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cachedAt) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cachedAt = now;
  }
  return cached;
}

std::string localReply(unsigned status, std::string_view body, const HttpConnectionManagerConfig* hcm,
                       bool close, const HeaderMap* extraHeaders) {
  ResponseHead head;
  head.status = status;
  // An authorization server's denial brings its own content-type.
  if (!body.empty() && !(extraHeaders != nullptr && extraHeaders->has("content-type")))
    head.headers.add("content-type", "text/plain");
  if (extraHeaders != nullptr) {
    for (const auto& [k, v] : extraHeaders->entries()) head.headers.add(k, v);
  }
  head.headers.add("date", httpDate());
  head.headers.add("server", hcm != nullptr ? hcm->serverName : "envoy");
  std::string out = serializeResponseHead(head, body.size(), false, close);
  out.append(body);
  return out;
}

DataPlane::DataPlane(DataPlaneOptions options) : engine_(std::make_unique<Engine>(std::move(options))) {}

DataPlane::~DataPlane() { stop(); }

Result<void> DataPlane::apply(std::shared_ptr<const XdsSnapshot> candidate) {
  if (!candidate) return fail(ErrorCode::InvalidInput, "empty snapshot");
  auto compiled = compileSnapshot(*candidate);
  if (!compiled) return Failure(compiled.error());
  auto previous = engine_->active();
  auto next = std::make_shared<ActiveConfig>();
  next->config = *compiled;
  for (const auto& [name, cluster] : (*compiled)->clusters) {
    auto it = previous->clusters.find(name);
    if (it != previous->clusters.end()) {
      it->second->update(cluster);
      next->clusters.emplace(name, it->second);
    } else {
      next->clusters.emplace(name, std::make_shared<ClusterRuntime>(cluster));
    }
    if (cluster->type == ClusterType::StrictDns || cluster->type == ClusterType::LogicalDns) {
      engine_->dns.watch(next->clusters.at(name));
    }
  }
  std::lock_guard lock(engine_->listenersMu);
  if (!engine_->draining) {
    std::vector<std::string> boundNow;
    const auto& overrides = engine_->options.listenerBinds;
    for (const auto& [name, listener] : (*compiled)->listeners) {
      if (!listener->bindToPort) continue;
      const ListenerBind* rebind = listenerBindFor(overrides, name);
      if (rebind != nullptr && rebind->disabled) continue;
      const std::string& address = rebind != nullptr ? rebind->address : listener->address;
      uint32_t port = rebind != nullptr ? rebind->port : listener->port;
      auto it = engine_->listeners.find(name);
      if (it != engine_->listeners.end() && it->second.address == address && (it->second.port == port || port == 0)) {
        continue;
      }
      if (it != engine_->listeners.end()) {
        engine_->closeListener(it->second);
        engine_->listeners.erase(it);
      }
      auto bound = engine_->bindListener(name, address, port, std::nullopt);
      if (!bound) {
        for (const auto& n : boundNow) {
          engine_->closeListener(engine_->listeners[n]);
          engine_->listeners.erase(n);
        }
        return Failure(bound.error());
      }
      boundNow.push_back(name);
    }
    for (auto it = engine_->listeners.begin(); it != engine_->listeners.end();) {
      auto l = (*compiled)->listeners.find(it->first);
      const ListenerBind* rebind = listenerBindFor(overrides, it->first);
      bool keep = it->second.localBind.has_value() ||
                  (l != (*compiled)->listeners.end() && l->second->bindToPort && !(rebind && rebind->disabled));
      if (keep) {
        ++it;
      } else {
        engine_->closeListener(it->second);
        it = engine_->listeners.erase(it);
      }
    }
  }
  engine_->setActive(std::move(next));
  return {};
}

Result<void> DataPlane::start() {
  if (engine_->running.exchange(true)) return {};
  {
    std::lock_guard lock(engine_->listenersMu);
    size_t perDirection[2] = {0, 0};
    for (const LocalBind& b : engine_->options.localBinds) {
      size_t& index = perDirection[b.direction == BindDirection::Inbound ? 1 : 0];
      auto bound = engine_->bindListener(localBindName(b.direction, index++), b.listenAddress, b.listenPort, b);
      if (!bound) {
        engine_->running = false;
        return Failure(bound.error());
      }
    }
  }
  for (auto& w : engine_->workers) {
    w->work.emplace(w->ioc.get_executor());
    Worker* worker = w.get();
    w->thread = std::thread([worker] { worker->ioc.run(); });
  }
  return {};
}

void DataPlane::drain() {
  engine_->draining = true;
  std::lock_guard lock(engine_->listenersMu);
  for (auto& [name, socket] : engine_->listeners) engine_->closeListener(socket);
  engine_->listeners.clear();
}

void DataPlane::stop() {
  drain();
  for (auto& w : engine_->workers) {
    Worker* worker = w.get();
    asio::post(worker->ioc, [worker] {
      for (const auto& weak : worker->connections) {
        if (auto ds = weak.lock()) {
          boost::system::error_code ignored;
          ds->socket.close(ignored);
        }
      }
      worker->pool.closeAll();
      closeHttp2Upstreams(*worker);
    });
    worker->work.reset();
  }
  for (auto& w : engine_->workers) {
    if (!w->thread.joinable()) continue;
    // Give closes and in-flight handlers a moment, then stop the loop.
    asio::post(w->ioc, [worker = w.get()] { worker->ioc.stop(); });
    w->thread.join();
  }
  engine_->running = false;
}

std::shared_ptr<const RuntimeConfig> DataPlane::currentConfig() const { return engine_->active()->config; }

std::optional<uint16_t> DataPlane::boundPort(const std::string& listenerName) const {
  std::lock_guard lock(engine_->listenersMu);
  auto it = engine_->listeners.find(listenerName);
  if (it == engine_->listeners.end()) return std::nullopt;
  boost::system::error_code ec;
  auto ep = it->second.acceptor->local_endpoint(ec);
  if (ec) return std::nullopt;
  return ep.port();
}

DataPlaneStats DataPlane::stats() const {
  DataPlaneStats s;
  s.downstreamConnections = engine_->downstreamConnections.load();
  s.requests = engine_->requests.load();
  s.localReplies = engine_->localReplies.load();
  s.upstreamRequests = engine_->upstreamRequests.load();
  s.retries = engine_->retries.load();
  s.overflows = engine_->overflows.load();
  s.rbacAllowed = engine_->rbacAllowed.load();
  s.rbacDenied = engine_->rbacDenied.load();
  s.jwtDenied = engine_->jwtDenied.load();
  s.extAuthzAllowed = engine_->extAuthzAllowed.load();
  s.extAuthzDenied = engine_->extAuthzDenied.load();
  s.extAuthzErrors = engine_->extAuthzErrors.load();
  return s;
}

std::vector<ClusterStatus> DataPlane::clusterStatuses() const {
  std::vector<ClusterStatus> out;
  auto active = engine_->active();
  for (const auto& [name, runtime] : active->clusters) {
    ClusterStatus s;
    s.name = name;
    s.activeConnections = runtime->activeConnections.load();
    s.pendingRequests = runtime->pendingRequests.load();
    s.activeRequests = runtime->activeRequests.load();
    s.activeRetries = runtime->activeRetries.load();
    s.circuitBreakers = runtime->config()->circuitBreakers;
    for (auto& h : runtime->hostStatuses()) {
      ClusterStatus::Host host;
      host.endpoint = std::move(h.endpoint);
      host.activeRequests = h.activeRequests;
      host.ejected = h.ejected;
      s.hosts.push_back(std::move(host));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mesh::proxy::dataplane
