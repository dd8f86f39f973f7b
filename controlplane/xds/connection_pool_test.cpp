// DestinationRule connectionPool → Envoy, as Istio's applyConnectionPool maps it: circuit
// breaker thresholds (values > 0 only), connect_timeout, upstream tcp_keepalive, the
// HttpProtocolOptions' common idle_timeout (HTTP's, else TCP's), max_requests_per_connection,
// max_connection_duration, max_concurrent_streams only on HTTP/2 clusters, and the TCP settings
// on the outbound tcp_proxy.
#include <doctest/doctest.h>

#include "controlplane/xds/cluster_test_support.h"
#include "controlplane/xds/listener_test_support.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

using namespace mesh;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;

namespace {

constexpr const char* kPool = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.shop.svc.cluster.local, rpc.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}, {number: 9090, name: grpc, protocol: GRPC}]
  endpoints: [{address: 10.0.0.1}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.shop.svc.cluster.local]
  addresses: [10.0.0.9]
  resolution: STATIC
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  endpoints: [{address: 10.0.0.3}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop, namespace: shop}
spec:
  host: shop.shop.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 10
        connectTimeout: 250ms
        tcpKeepalive: {probes: 4, time: 30s, interval: 5s}
        maxConnectionDuration: 90s
        idleTimeout: 40s
      http:
        http1MaxPendingRequests: 5
        http2MaxRequests: 0
        maxRequestsPerConnection: 2
        maxRetries: 7
        maxConcurrentStreams: 33
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rpc, namespace: shop}
spec:
  host: rpc.shop.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp: {tcpKeepalive: {}}
      http: {idleTimeout: 15s, maxConcurrentStreams: 33}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: shop}
spec:
  host: db.shop.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp: {idleTimeout: 20s, maxConnectionDuration: 1h}
)";

std::map<std::string, envoy::config::cluster::v3::Cluster> clusters() { return mesh::xds::cds_test::sidecarClusters(kPool); }

using mesh::xds::cds_test::httpOptions;

}  // namespace

TEST_CASE("connection pool: thresholds, connect timeout, keepalive and HTTP options on an HTTP/1.1 cluster") {
  auto cs = clusters();
  const auto& c = cs.at("outbound|8080||shop.shop.svc.cluster.local");
  CHECK(c.connect_timeout().nanos() == 250000000);
  REQUIRE(c.circuit_breakers().thresholds_size() == 1);
  const auto& t = c.circuit_breakers().thresholds(0);
  CHECK(t.max_connections().value() == 10);
  CHECK(t.max_pending_requests().value() == 5);
  CHECK(t.max_requests().value() == std::numeric_limits<uint32_t>::max());  // 0 is "unset" to Istio
  CHECK(t.max_retries().value() == 7);
  const auto& ka = c.upstream_connection_options().tcp_keepalive();
  CHECK(ka.keepalive_probes().value() == 4);
  CHECK(ka.keepalive_time().value() == 30);
  CHECK(ka.keepalive_interval().value() == 5);
  auto h = httpOptions(c);
  REQUIRE(h.has_value());
  CHECK(h->common_http_protocol_options().max_requests_per_connection().value() == 2);
  CHECK(h->common_http_protocol_options().max_connection_duration().seconds() == 90);
  // No HTTP idleTimeout: the TCP one applies to the pool.
  CHECK(h->common_http_protocol_options().idle_timeout().seconds() == 40);
  // maxConcurrentStreams does not make an HTTP/1.1 cluster speak HTTP/2.
  CHECK_FALSE(h->has_explicit_http_config());
}

TEST_CASE("connection pool: an HTTP/2 cluster gets max_concurrent_streams and the HTTP idle timeout") {
  auto cs = clusters();
  const auto& c = cs.at("outbound|9090||rpc.shop.svc.cluster.local");
  auto h = httpOptions(c);
  REQUIRE(h.has_value());
  REQUIRE(h->explicit_http_config().has_http2_protocol_options());
  CHECK(h->explicit_http_config().http2_protocol_options().max_concurrent_streams().value() == 33);
  CHECK(h->common_http_protocol_options().idle_timeout().seconds() == 15);
  CHECK_FALSE(h->common_http_protocol_options().has_max_requests_per_connection());
  // An empty tcpKeepalive still turns SO_KEEPALIVE on, with the system's timings.
  REQUIRE(c.upstream_connection_options().has_tcp_keepalive());
  CHECK_FALSE(c.upstream_connection_options().tcp_keepalive().has_keepalive_probes());
  // Unset fields keep Istio's unlimited defaults.
  CHECK(c.circuit_breakers().thresholds(0).max_connections().value() == std::numeric_limits<uint32_t>::max());
}

TEST_CASE("connection pool: TCP idle timeout and max connection duration on the outbound tcp_proxy") {
  namespace lt = mesh::xds::lds_test;
  lt::Listeners ls(lt::snapshotOf(kPool), lt::proxyFor(model::ProxyType::Sidecar, "client", "shop", "10.1.0.1", {}));
  auto tp = lt::tcpProxyOf(ls.at("10.0.0.9_5432").filter_chains(0));
  CHECK(tp.cluster() == "outbound|5432||db.shop.svc.cluster.local");
  CHECK(tp.idle_timeout().seconds() == 20);
  CHECK(tp.max_downstream_connection_duration().seconds() == 3600);
  // The same TCP idle timeout closes the cluster's idle pooled HTTP connections (Istio).
  auto cs = clusters();
  auto h = httpOptions(cs.at("outbound|5432||db.shop.svc.cluster.local"));
  REQUIRE(h.has_value());
  CHECK(h->common_http_protocol_options().idle_timeout().seconds() == 20);
}
