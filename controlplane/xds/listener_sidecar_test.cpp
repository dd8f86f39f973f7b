// LDS for sidecars: outbound listeners per service port, virtualOutbound, virtualInbound by
// PeerAuthentication mode.
#include <doctest/doctest.h>

#include <algorithm>

#include "controlplane/xds/listener_test_support.h"
#include "istio/envoy/config/filter/http/alpn/v2alpha1/config.pb.h"

namespace mesh::xds::lds_test {
namespace {

// reviews (the proxy's own workload: pod reviews-v1, 10.1.0.5) serves HTTP on 9080 and TCP on
// 9090; ratings is HTTP on 8080, mysql TCP on 3306, legacy has an unnamed port (protocol
// sniffing), db is headless with two pods, and api.example.com is an external TLS host.
constexpr std::string_view kMesh = R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  clusterIP: 10.0.0.5
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
  - {name: tcp-metrics, port: 9090, targetPort: 19090}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  clusterIP: 10.0.0.6
  selector: {app: ratings}
  ports:
  - {name: http-web, port: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: mysql, namespace: default}
spec:
  clusterIP: 10.0.0.7
  selector: {app: mysql}
  ports:
  - {name: tcp-mysql, port: 3306}
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec:
  clusterIP: 10.0.0.8
  selector: {app: legacy}
  ports:
  - {port: 7000}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: tcp-pg, port: 5432}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: default, labels: {app: reviews, version: v1}}
spec: {containers: [{name: app, image: reviews}]}
status: {podIP: 10.1.0.5, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: default, labels: {app: db}}
spec: {containers: [{name: pg, image: postgres}]}
status: {podIP: 10.1.0.20, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: default, labels: {app: db}}
spec: {containers: [{name: pg, image: postgres}]}
status: {podIP: 10.1.0.21, phase: Running}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-api, namespace: default}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {name: tls, number: 443, protocol: TLS}
)";

constexpr std::string_view kTcpSplit = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql-split, namespace: default}
spec:
  hosts: [mysql]
  tcp:
  - match:
    - port: 3306
      destinationSubnets: [10.0.0.7/32]
    route:
    - destination: {host: mysql, subset: v1}
      weight: 80
    - destination: {host: mysql-backup.default.svc.cluster.local, port: {number: 3307}}
      weight: 20
)";

model::Proxy reviewsProxy() {
  return proxyFor(model::ProxyType::Sidecar, "reviews-v1", "default", "10.1.0.5",
                  {{"app", "reviews"}, {"version", "v1"}});
}

TEST_CASE("sidecar listeners: names as Istio gives them") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  std::vector<std::string> expected{"0.0.0.0_443",    "0.0.0.0_8080",   "0.0.0.0_9080",   "10.0.0.5_9090",
                                    "10.0.0.7_3306",  "10.0.0.8_7000",  "10.1.0.20_5432", "10.1.0.21_5432",
                                    "virtualInbound", "virtualOutbound"};
  CHECK(ls.names == expected);
}

TEST_CASE("outbound HTTP port: HCM on RDS <port>, fault, cors, router, passthrough default") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  const Listener& l = ls.at("0.0.0.0_8080");
  CHECK(l.address().socket_address().address() == "0.0.0.0");
  CHECK(l.address().socket_address().port_value() == 8080);
  CHECK(l.has_bind_to_port());
  CHECK_FALSE(l.bind_to_port().value());
  CHECK(l.traffic_direction() == envoy::config::core::v3::OUTBOUND);
  CHECK(listenerFilterNames(l) == std::vector<std::string>{"envoy.filters.listener.http_inspector"});
  REQUIRE(l.filter_chains_size() == 1);
  const FilterChain& chain = l.filter_chains(0);
  CHECK(chain.filter_chain_match().transport_protocol() == "raw_buffer");
  CHECK(strings(chain.filter_chain_match().application_protocols()) == std::vector<std::string>{"http/1.1", "h2c"});
  HttpConnectionManager hcm = hcmOf(chain);
  CHECK(hcm.stat_prefix() == "outbound_0.0.0.0_8080");
  REQUIRE(hcm.has_rds());
  CHECK(hcm.rds().route_config_name() == "8080");
  CHECK(hcm.rds().config_source().has_ads());
  CHECK(httpFilterNames(hcm) == std::vector<std::string>{"istio.alpn", "envoy.filters.http.fault",
                                                          "envoy.filters.http.cors", "envoy.filters.http.router"});
  CHECK(hcm.http_filters(3).typed_config().type_url() ==
        "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
  // Istio's ALPN override per upstream protocol, so the peer's inbound picks its HTTP chain.
  istio::envoy::config::filter::http::alpn::v2alpha1::FilterConfig alpn;
  REQUIRE(hcm.http_filters(0).typed_config().UnpackTo(&alpn));
  REQUIRE(alpn.alpn_override_size() == 3);
  CHECK(alpn.alpn_override(1).upstream_protocol() == istio::envoy::config::filter::http::alpn::v2alpha1::FilterConfig::HTTP11);
  CHECK(strings(alpn.alpn_override(1).alpn_override()) == std::vector<std::string>{"istio-http/1.1", "istio", "http/1.1"});
  CHECK(strings(alpn.alpn_override(2).alpn_override()) == std::vector<std::string>{"istio-h2", "istio", "h2"});
  REQUIRE(l.has_default_filter_chain());
  CHECK(l.default_filter_chain().name() == "PassthroughFilterChain");
  CHECK(tcpProxyOf(l.default_filter_chain()).cluster() == "PassthroughCluster");
}

TEST_CASE("outbound TCP ports listen on the service address with tcp_proxy to the service") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  const Listener& mysql = ls.at("10.0.0.7_3306");
  CHECK(mysql.address().socket_address().address() == "10.0.0.7");
  REQUIRE(mysql.filter_chains_size() == 1);
  CHECK_FALSE(mysql.filter_chains(0).has_filter_chain_match());
  TcpProxy tp = tcpProxyOf(mysql.filter_chains(0));
  CHECK(tp.cluster() == "outbound|3306||mysql.default.svc.cluster.local");
  CHECK(tp.stat_prefix() == tp.cluster());
  CHECK_FALSE(mysql.has_default_filter_chain());
  CHECK(mysql.listener_filters_size() == 0);
  // A port without a protocol name is proxied as TCP.
  CHECK(tcpProxyOf(ls.at("10.0.0.8_7000").filter_chains(0)).cluster() ==
        "outbound|7000||legacy.default.svc.cluster.local");
}

TEST_CASE("headless service: one listener per endpoint, none for the proxy's own address") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  CHECK(tcpProxyOf(ls.at("10.1.0.20_5432").filter_chains(0)).cluster() ==
        "outbound|5432||db.default.svc.cluster.local");
  Listeners fromDb(snapshotOf(kMesh),
                   proxyFor(model::ProxyType::Sidecar, "db-0", "default", "10.1.0.20", {{"app", "db"}}));
  CHECK_FALSE(fromDb.has("10.1.0.20_5432"));
  CHECK(fromDb.has("10.1.0.21_5432"));
}

TEST_CASE("VirtualService tcp route: weighted clusters matched on the destination subnet") {
  Listeners ls(snapshotOf(std::string(kMesh) + std::string(kTcpSplit)), reviewsProxy());
  const Listener& l = ls.at("10.0.0.7_3306");
  REQUIRE(l.filter_chains_size() == 1);
  const auto& match = l.filter_chains(0).filter_chain_match();
  REQUIRE(match.prefix_ranges_size() == 1);
  CHECK(match.prefix_ranges(0).address_prefix() == "10.0.0.7");
  CHECK(match.prefix_ranges(0).prefix_len().value() == 32);
  TcpProxy tp = tcpProxyOf(l.filter_chains(0));
  CHECK(tp.stat_prefix() == "mysql-split.default");
  REQUIRE(tp.weighted_clusters().clusters_size() == 2);
  CHECK(tp.weighted_clusters().clusters(0).name() == "outbound|3306|v1|mysql.default.svc.cluster.local");
  CHECK(tp.weighted_clusters().clusters(0).weight() == 80);
  CHECK(tp.weighted_clusters().clusters(1).name() == "outbound|3307||mysql-backup.default.svc.cluster.local");
  CHECK(tp.weighted_clusters().clusters(1).weight() == 20);
}

TEST_CASE("VirtualService tcp route without match replaces the default; sourceLabels gate it") {
  std::string yaml = std::string(kMesh) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql-v2, namespace: default}
spec:
  hosts: [mysql.default.svc.cluster.local]
  tcp:
  - match:
    - sourceLabels: {app: reviews}
    route:
    - destination: {host: mysql, subset: v2}
)";
  Listeners reviews(snapshotOf(yaml), reviewsProxy());
  CHECK(tcpProxyOf(reviews.at("10.0.0.7_3306").filter_chains(0)).cluster() ==
        "outbound|3306|v2|mysql.default.svc.cluster.local");
  Listeners other(snapshotOf(yaml),
                  proxyFor(model::ProxyType::Sidecar, "ratings-1", "default", "10.1.0.9", {{"app", "ratings"}}));
  CHECK(tcpProxyOf(other.at("10.0.0.7_3306").filter_chains(0)).cluster() ==
        "outbound|3306||mysql.default.svc.cluster.local");
}

TEST_CASE("TLS port: SNI chains from VirtualService tls routes, hostname SNI by default") {
  Listeners plain(snapshotOf(kMesh), reviewsProxy());
  const Listener& l = plain.at("0.0.0.0_443");
  CHECK(listenerFilterNames(l) == std::vector<std::string>{"envoy.filters.listener.tls_inspector"});
  const FilterChain* chain = chainWithSni(l, "api.example.com");
  REQUIRE(chain);
  CHECK(tcpProxyOf(*chain).cluster() == "outbound|443||api.example.com");
  CHECK(l.default_filter_chain().name() == "PassthroughFilterChain");

  std::string yaml = std::string(kMesh) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api-tls, namespace: default}
spec:
  hosts: [api.example.com]
  tls:
  - match:
    - sniHosts: [api.example.com]
    route:
    - destination: {host: egress.example.com, port: {number: 8443}}
)";
  Listeners routed(snapshotOf(yaml), reviewsProxy());
  const FilterChain* r = chainWithSni(routed.at("0.0.0.0_443"), "api.example.com");
  REQUIRE(r);
  CHECK(tcpProxyOf(*r).cluster() == "outbound|8443||egress.example.com");
}

TEST_CASE("virtualOutbound: blackhole on 15001, catch-all by the Sidecar's outboundTrafficPolicy") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  const Listener& l = ls.at("virtualOutbound");
  CHECK(l.address().socket_address().port_value() == 15001);
  CHECK(l.use_original_dst().value());
  REQUIRE(l.filter_chains_size() == 2);
  CHECK(l.filter_chains(0).name() == "virtualOutbound-blackhole");
  CHECK(l.filter_chains(0).filter_chain_match().destination_port().value() == 15001);
  CHECK(tcpProxyOf(l.filter_chains(0)).cluster() == "BlackHoleCluster");
  CHECK(l.filter_chains(1).name() == "virtualOutbound-catchall-tcp");
  CHECK(tcpProxyOf(l.filter_chains(1)).cluster() == "PassthroughCluster");

  std::string yaml = std::string(kMesh) + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress: [{hosts: ["*/*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)";
  Listeners strict(snapshotOf(yaml), reviewsProxy());
  CHECK(tcpProxyOf(strict.at("virtualOutbound").filter_chains(1)).cluster() == "BlackHoleCluster");
  CHECK(tcpProxyOf(strict.at("0.0.0.0_8080").default_filter_chain()).cluster() == "BlackHoleCluster");
}

TEST_CASE("virtualInbound, PERMISSIVE: mTLS and plaintext chains per workload port") {
  Listeners ls(snapshotOf(kMesh), reviewsProxy());
  const Listener& l = ls.at("virtualInbound");
  CHECK(l.address().socket_address().port_value() == 15006);
  CHECK(l.traffic_direction() == envoy::config::core::v3::INBOUND);
  CHECK(listenerFilterNames(l) == std::vector<std::string>{"envoy.filters.listener.original_dst",
                                                           "envoy.filters.listener.tls_inspector",
                                                           "envoy.filters.listener.http_inspector"});
  CHECK(l.filter_chains(0).name() == "virtualInbound-blackhole");

  // HTTP port 9080: TLS chain with Istio's ALPNs, then plaintext.
  auto http = chainsForPort(l, 9080);
  REQUIRE(http.size() == 2);
  CHECK(http[0]->name() == "0.0.0.0_9080");
  CHECK(http[0]->filter_chain_match().transport_protocol() == "tls");
  CHECK(strings(http[0]->filter_chain_match().application_protocols()) ==
        std::vector<std::string>{"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"});
  DownstreamTlsContext tls = tlsOf(*http[0]);
  CHECK(tls.require_client_certificate().value());
  CHECK(tls.common_tls_context().tls_certificate_sds_secret_configs(0).name() == "default");
  CHECK(tls.common_tls_context().combined_validation_context().validation_context_sds_secret_config().name() ==
        "ROOTCA");
  CHECK(http[1]->filter_chain_match().transport_protocol() == "raw_buffer");
  CHECK_FALSE(http[1]->has_transport_socket());
  for (const FilterChain* c : http) {
    HttpConnectionManager hcm = hcmOf(*c);
    CHECK(hcm.stat_prefix() == "inbound_0.0.0.0_9080");
    REQUIRE(hcm.has_route_config());
    CHECK(hcm.route_config().name() == "inbound|9080||");
    REQUIRE(hcm.route_config().virtual_hosts_size() == 1);
    const auto& vh = hcm.route_config().virtual_hosts(0);
    CHECK(vh.name() == "inbound|http|9080");
    CHECK(strings(vh.domains()) == std::vector<std::string>{"*"});
    CHECK(vh.routes(0).route().cluster() == "inbound|9080||");
    CHECK(vh.routes(0).route().timeout().seconds() == 0);
    CHECK(httpFilterNames(hcm).back() == "envoy.filters.http.router");
  }

  // TCP port: the workload port (19090), three chains (mTLS, plaintext, the app's own TLS).
  auto tcp = chainsForPort(l, 19090);
  REQUIRE(tcp.size() == 3);
  CHECK(tcp[0]->has_transport_socket());
  CHECK(strings(tlsOf(*tcp[0]).common_tls_context().alpn_protocols()) ==
        std::vector<std::string>{"istio-peer-exchange", "h2", "http/1.1"});
  for (const FilterChain* c : tcp) CHECK(tcpProxyOf(*c).cluster() == "inbound|19090||");
  CHECK(tcp[2]->filter_chain_match().transport_protocol() == "tls");
  CHECK_FALSE(tcp[2]->has_transport_socket());

  // Passthrough: five chains without a port, to InboundPassthroughClusterIpv4.
  auto passthrough = chainsForPort(l, 0);
  REQUIRE(passthrough.size() == 5);
  CHECK(passthrough[0]->name() == "virtualInbound-catchall-http");
  CHECK(hcmOf(*passthrough[0]).route_config().virtual_hosts(0).routes(0).route().cluster() ==
        "InboundPassthroughClusterIpv4");
  CHECK(passthrough[3]->name() == "virtualInbound");
  CHECK(tcpProxyOf(*passthrough[3]).cluster() == "InboundPassthroughClusterIpv4");
}

TEST_CASE("virtualInbound, STRICT: TLS chains only; a port-level DISABLE is plaintext only") {
  std::string yaml = std::string(kMesh) + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  mtls: {mode: STRICT}
  portLevelMtls:
    19090: {mode: DISABLE}
)";
  Listeners ls(snapshotOf(yaml), reviewsProxy());
  const Listener& l = ls.at("virtualInbound");
  auto http = chainsForPort(l, 9080);
  REQUIRE(http.size() == 1);
  CHECK(http[0]->filter_chain_match().transport_protocol() == "tls");
  CHECK(http[0]->filter_chain_match().application_protocols_size() == 0);
  CHECK(strings(tlsOf(*http[0]).common_tls_context().alpn_protocols()) == std::vector<std::string>{"h2", "http/1.1"});
  auto tcp = chainsForPort(l, 19090);
  REQUIRE(tcp.size() == 1);
  CHECK(tcp[0]->filter_chain_match().transport_protocol() == "raw_buffer");
  CHECK_FALSE(tcp[0]->has_transport_socket());
  // Passthrough under STRICT: mTLS HTTP and mTLS TCP, nothing plaintext.
  auto passthrough = chainsForPort(l, 0);
  REQUIRE(passthrough.size() == 2);
  for (const FilterChain* c : passthrough) CHECK(c->filter_chain_match().transport_protocol() == "tls");
  // The TLS inspector is not needed on the plaintext-only port.
  const auto& tlsInspector = l.listener_filters(1);
  CHECK(tlsInspector.name() == "envoy.filters.listener.tls_inspector");
  CHECK(tlsInspector.filter_disabled().has_or_match());
}

TEST_CASE("inbound chains start with the workload's security filters; outbound ones do not") {
  std::string yaml = std::string(kMesh) + R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-allow, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from:
    - source: {namespaces: [default]}
)";
  Listeners ls(snapshotOf(yaml), reviewsProxy());
  const Listener& in = ls.at("virtualInbound");
  for (const FilterChain* c : chainsForPort(in, 9080))
    CHECK(httpFilterNames(hcmOf(*c)) ==
          std::vector<std::string>{"envoy.filters.http.rbac", "envoy.filters.http.router"});
  for (const FilterChain* c : chainsForPort(in, 19090)) CHECK(c->filters(0).name() == "envoy.filters.network.rbac");
  CHECK(httpFilterNames(hcmOf(ls.at("0.0.0.0_8080").filter_chains(0))).front() == "istio.alpn");
  CHECK(ls.at("10.0.0.7_3306").filter_chains(0).filters_size() == 1);
}

TEST_CASE("outbound listeners are shared through the generation cache") {
  auto snap = snapshotOf(kMesh);
  GenerationCache cache;
  Listeners a(snap, reviewsProxy(), &cache);
  Listeners b(snap, proxyFor(model::ProxyType::Sidecar, "ratings-1", "default", "10.1.0.9", {{"app", "ratings"}}),
              &cache);
  CHECK(cache.size() == 1);
  CHECK(a.at("0.0.0.0_8080").SerializeAsString() == b.at("0.0.0.0_8080").SerializeAsString());
  // Inbound stays per proxy: ratings serves nothing here, reviews serves 9080.
  CHECK(chainsForPort(b.at("virtualInbound"), 9080).empty());
  CHECK_FALSE(chainsForPort(a.at("virtualInbound"), 9080).empty());
}

TEST_CASE("requested names filter the answer") {
  auto snap = snapshotOf(kMesh);
  model::Proxy proxy = reviewsProxy();
  auto scope = model::SidecarScope::compute(*snap, proxy);
  ResourceNames names;
  names.wildcard = false;
  names.names = {"0.0.0.0_8080", "virtualInbound"};
  XdsResources out = ListenerGenerator().generate(ProxyView{*snap, proxy, scope, nullptr}, names);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "0.0.0.0_8080");
  CHECK(out[1].name == "virtualInbound");
}

}  // namespace
}  // namespace mesh::xds::lds_test
