// The tcp_proxy network filter: picks a cluster (weighted), connects to a host (retrying up to
// max_connect_attempts), then copies bytes both ways; EOF on one side half-closes the other,
// and the connection ends when both directions are done or the idle timeout passes. The same
// relay carries HTTP upgrades (WebSocket) once the upstream answers 101.
#include "proxy/dataplane/asio_includes.h"

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/ext_authz_network.h"
#include "proxy/dataplane/request_telemetry.h"
#include "proxy/dataplane/security_filters.h"
#include "proxy/dataplane/socket_options.h"
#include "proxy/dataplane/tls_handshake.h"

namespace mesh::proxy::dataplane {

namespace {

struct Pipe {
  Pipe(std::shared_ptr<Downstream> d, Transport u)
      : ds(std::move(d)), upstream(std::move(u)), finished(upstream.get_executor()) {
    finished.expires_at(std::chrono::steady_clock::time_point::max());
  }
  std::shared_ptr<Downstream> ds;
  Transport upstream;
  asio::steady_timer finished;  // cancelled when both directions are done
  std::shared_ptr<void> keepAlive;
  std::chrono::steady_clock::time_point lastActivity = std::chrono::steady_clock::now();
  int open = 2;
  RelayBytes bytes;
  void closeBoth() {
    boost::system::error_code ignored;
    ds->socket.close(ignored);
    upstream.close(ignored);
  }
};

asio::awaitable<void> copy(std::shared_ptr<Pipe> pipe, Transport& from, Transport& to, uint64_t& counted) {
  char buf[32 * 1024];
  boost::system::error_code ec;
  for (;;) {
    size_t n = co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    pipe->lastActivity = std::chrono::steady_clock::now();
    co_await asio::async_write(to, asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    counted += n;
  }
  if (ec && ec != asio::error::eof) {
    pipe->closeBoth();  // a reset on one side resets the other
  } else {
    to.shutdown(tcp::socket::shutdown_send, ec);  // half-close travels through
  }
  if (--pipe->open == 0) {
    pipe->closeBoth();
    pipe->finished.cancel();
  }
}

asio::awaitable<void> idleWatch(std::shared_ptr<Pipe> pipe, Millis idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (pipe->open > 0) {
    timer.expires_at(pipe->lastActivity + idle);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (pipe->open > 0 && std::chrono::steady_clock::now() >= pipe->lastActivity + idle) {
      pipe->closeBoth();
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> serveTcp(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                               std::shared_ptr<const FilterChain> chain) {
  const auto& cfg = std::get<TcpProxyConfig>(chain->filter);
  auto active = engine.active();
  std::string clusterName = cfg.cluster;
  if (!cfg.weightedClusters.empty()) {
    uint64_t point = worker.rng() % cfg.totalWeight;
    for (const auto& wc : cfg.weightedClusters) {
      if (point < wc.weight) {
        clusterName = wc.name;
        break;
      }
      point -= wc.weight;
    }
  }
  // One record per connection: opened once an upstream answers, closed when both sides end;
  // a connection that never reaches an upstream is reported opened and closed with its flag.
  telemetry::RequestObserver* observer = engine.options.observer.get();
  std::optional<telemetry::RequestRecord> record;
  uint32_t flags = 0;
  auto start = std::chrono::steady_clock::now();
  auto report = [&](bool opened) {
    if (!record) return;
    record->responseFlags = telemetry::responseFlagsString(flags);
    record->duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (!opened) observer->onTcpOpened(*record);
    observer->onTcpClosed(*record);
  };
  if (observer != nullptr) {
    record.emplace();
    fillConnectionRecord(*record, engine, *ds, clusterName);
  }
  // envoy.filters.network.rbac and ext_authz: a denied connection is closed before any
  // upstream is dialled.
  bool allowed = co_await networkFiltersAllow(engine, worker, cfg, *ds, flags);
  if (!allowed) {
    report(false);
    co_return;
  }
  ClusterRuntime* runtime = active->cluster(clusterName);
  if (runtime == nullptr) {
    flags |= telemetry::kNoClusterFound;
    report(false);
    co_return;
  }
  auto cluster = runtime->config();
  if (record) setDestination(*record, engine, *ds, *cluster, nullptr);
  LbContext lb;
  lb.originalDst = ds->info.destinationAddress + ":" + std::to_string(ds->info.destinationPort);
  std::optional<ResourceGuard> connGuard;
  Transport upstream(worker.ioc.get_executor());
  bool connected = false;
  std::string tlsFailure;
  for (uint32_t attempt = 0; attempt < cfg.maxConnectAttempts && !connected; ++attempt) {
    auto host = runtime->chooseHost(lb);
    if (!host) {
      flags |= telemetry::kNoHealthyUpstream;
      report(false);
      co_return;
    }
    if (record) {
      record->upstreamHost = host->key;
      setDestination(*record, engine, *ds, *cluster, &host->endpoint);
    }
    connGuard = ResourceGuard::tryAcquire(runtime->activeConnections, cluster->circuitBreakers.maxConnections);
    if (!connGuard) {  // Envoy closes the downstream on upstream overflow
      flags |= telemetry::kUpstreamOverflow;
      report(false);
      co_return;
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host->endpoint.address, ec);
    if (ec) {
      tcp::resolver resolver(worker.ioc);
      auto results = co_await resolver.async_resolve(host->endpoint.address, std::to_string(host->endpoint.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec || results.empty()) continue;
      address = results.begin()->endpoint().address();
    }
    upstream = Transport(worker.ioc.get_executor());
    Deadline timeout(worker.ioc, std::chrono::steady_clock::now() + cluster->connectTimeout, [&upstream] {
      boost::system::error_code ignored;
      upstream.close(ignored);
    });
    co_await upstream.async_connect(tcp::endpoint(address, static_cast<uint16_t>(host->endpoint.port)),
                                    asio::redirect_error(asio::use_awaitable, ec));
    connected = !ec && !timeout.expired();
    if (auto tls = cluster->tlsFor(host->endpoint); connected && tls) {
      tlsFailure = co_await connectTls(worker, upstream, tls, UpstreamAlpn{},
                                       std::chrono::steady_clock::now() + cluster->connectTimeout);
      connected = tlsFailure.empty();
      // Istio's destination_principal on the client side: the server certificate's identity.
      if (connected && record) record->destination.principal = upstreamPeerPrincipal(upstream, *tls);
    }
    runtime->reportResult(*host, connected ? 200 : 503);
    lb.avoid.push_back(host->key);
  }
  if (!connected) {
    flags |= telemetry::kUpstreamConnectionFailure;
    if (cfg.maxConnectAttempts > 1) flags |= telemetry::kUpstreamRetryLimitExceeded;
    report(false);
    co_return;
  }
  if (record) observer->onTcpOpened(*record);
  boost::system::error_code ec;
  upstream.set_option(tcp::no_delay(true), ec);
  if (cluster->tcpKeepalive) setTcpKeepalive(upstream.native_handle(), *cluster->tcpKeepalive);
  // max_downstream_connection_duration: closing the client's side ends the relay, which closes
  // the upstream's.
  Deadline maxDuration(worker.ioc,
                       cfg.maxDownstreamConnectionDuration ? start + *cfg.maxDownstreamConnectionDuration
                                                           : std::chrono::steady_clock::time_point::max(),
                       [ds] {
                         boost::system::error_code ignored;
                         ds->socket.close(ignored);
                       });
  std::string pending = std::move(ds->buffer);
  ds->buffer.clear();
  RelayBytes bytes =
      co_await relayBothWays(worker, ds, std::move(upstream), std::move(pending), {}, cfg.idleTimeout, nullptr);
  if (record) {
    record->bytesReceived = bytes.fromDownstream;
    record->bytesSent = bytes.toDownstream;
    report(true);
  }
}

asio::awaitable<RelayBytes> relayBothWays(Worker& worker, std::shared_ptr<Downstream> ds, Transport upstream,
                                    std::string toUpstream, std::string toDownstream,
                                    std::chrono::milliseconds idle, std::shared_ptr<void> keepAlive) {
  auto pipe = std::make_shared<Pipe>(ds, std::move(upstream));
  pipe->keepAlive = std::move(keepAlive);
  boost::system::error_code ec;
  if (!toUpstream.empty()) {
    co_await asio::async_write(pipe->upstream, asio::buffer(toUpstream), asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) pipe->bytes.fromDownstream += toUpstream.size();
  if (!ec && !toDownstream.empty()) {
    co_await asio::async_write(ds->socket, asio::buffer(toDownstream), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) pipe->bytes.toDownstream += toDownstream.size();
  }
  if (ec) {
    pipe->closeBoth();
    co_return pipe->bytes;
  }
  if (idle.count() > 0) asio::co_spawn(worker.ioc, idleWatch(pipe, idle), asio::detached);
  asio::co_spawn(worker.ioc, copy(pipe, pipe->upstream, pipe->ds->socket, pipe->bytes.toDownstream), asio::detached);
  co_await copy(pipe, pipe->ds->socket, pipe->upstream, pipe->bytes.fromDownstream);
  // Wait for the other direction so the connection (and its guard) lives until both end.
  if (pipe->open > 0) co_await pipe->finished.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return pipe->bytes;
}

}  // namespace mesh::proxy::dataplane
