// LDS for gateways: HTTP, HTTPS SIMPLE/MUTUAL with credentialName, TLS PASSTHROUGH by SNI, TCP.
#include <doctest/doctest.h>

#include "controlplane/xds/listener_test_support.h"

namespace mesh::xds::lds_test {
namespace {

// The ingress gateway pod (10.1.0.100) behind Service istio-ingressgateway, which maps 80 to
// 8080 and 443 to 8443 (an unprivileged gateway), and one Gateway with five servers.
constexpr std::string_view kGateway = R"(apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  clusterIP: 10.0.0.100
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
---
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
status: {podIP: 10.1.0.100, phase: Running}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: main, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo/bookinfo.example.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
  - port: {number: 443, name: https-admin, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: admin-cert}
  - port: {number: 9443, name: tls-pass, protocol: TLS}
    hosts: ["*.passthrough.example.com"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass, namespace: bookinfo}
spec:
  hosts: [a.passthrough.example.com, b.passthrough.example.com]
  gateways: [istio-system/main]
  tls:
  - match:
    - sniHosts: [a.passthrough.example.com]
    route:
    - destination: {host: a-svc.bookinfo.svc.cluster.local, port: {number: 443}}
  - match:
    - sniHosts: [b.passthrough.example.com]
    route:
    - destination: {host: b-svc.bookinfo.svc.cluster.local, port: {number: 8443}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [main]
  tcp:
  - match:
    - port: 31400
    route:
    - destination: {host: tcp-echo.default.svc.cluster.local, port: {number: 9000}}
)";

model::Proxy ingressProxy() {
  return proxyFor(model::ProxyType::Router, "ingress-1", "istio-system", "10.1.0.100", {{"istio", "ingressgateway"}});
}

TEST_CASE("gateway listeners: one per server port, on the Service's targetPort") {
  Listeners ls(snapshotOf(kGateway), ingressProxy());
  CHECK(ls.names == std::vector<std::string>{"0.0.0.0_31400", "0.0.0.0_8080", "0.0.0.0_8443", "0.0.0.0_9443"});
  for (const auto& [name, l] : ls.byName) {
    CHECK(l.traffic_direction() == envoy::config::core::v3::OUTBOUND);
    CHECK_FALSE(l.has_bind_to_port());  // gateways bind their ports
  }
}

TEST_CASE("gateway HTTP server: HCM on the server's RDS name, router last") {
  Listeners ls(snapshotOf(kGateway), ingressProxy());
  const Listener& l = ls.at("0.0.0.0_8080");
  CHECK(l.address().socket_address().port_value() == 8080);
  REQUIRE(l.filter_chains_size() == 1);
  HttpConnectionManager hcm = hcmOf(l.filter_chains(0));
  CHECK(hcm.rds().route_config_name() == "http.80");
  CHECK(hcm.stat_prefix() == "outbound_0.0.0.0_8080");
  CHECK(hcm.use_remote_address().value());
  CHECK(httpFilterNames(hcm).back() == "envoy.filters.http.router");
}

TEST_CASE("gateway HTTPS SIMPLE and MUTUAL: SNI chains with credentialName secrets over SDS") {
  Listeners ls(snapshotOf(kGateway), ingressProxy());
  const Listener& l = ls.at("0.0.0.0_8443");
  CHECK(listenerFilterNames(l) == std::vector<std::string>{"envoy.filters.listener.tls_inspector"});
  REQUIRE(l.filter_chains_size() == 2);

  const FilterChain* simple = chainWithSni(l, "bookinfo.example.com");
  REQUIRE(simple);
  DownstreamTlsContext tls = tlsOf(*simple);
  CHECK_FALSE(tls.require_client_certificate().value());
  REQUIRE(tls.common_tls_context().tls_certificate_sds_secret_configs_size() == 1);
  const auto& cert = tls.common_tls_context().tls_certificate_sds_secret_configs(0);
  CHECK(cert.name() == "kubernetes://bookinfo-cert");
  CHECK(cert.sds_config().has_ads());
  CHECK_FALSE(tls.common_tls_context().has_combined_validation_context());
  CHECK(strings(tls.common_tls_context().alpn_protocols()) == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(hcmOf(*simple).rds().route_config_name() == "https.443.https.main.istio-system");

  const FilterChain* mutual = chainWithSni(l, "admin.example.com");
  REQUIRE(mutual);
  DownstreamTlsContext mtls = tlsOf(*mutual);
  CHECK(mtls.require_client_certificate().value());
  CHECK(mtls.common_tls_context().tls_certificate_sds_secret_configs(0).name() == "kubernetes://admin-cert");
  CHECK(mtls.common_tls_context().combined_validation_context().validation_context_sds_secret_config().name() ==
        "kubernetes://admin-cert-cacert");
  CHECK(hcmOf(*mutual).rds().route_config_name() == "https.443.https-admin.main.istio-system");
}

TEST_CASE("gateway TLS PASSTHROUGH: an SNI chain per VirtualService tls match, tcp_proxy to it") {
  Listeners ls(snapshotOf(kGateway), ingressProxy());
  const Listener& l = ls.at("0.0.0.0_9443");
  CHECK(listenerFilterNames(l) == std::vector<std::string>{"envoy.filters.listener.tls_inspector"});
  REQUIRE(l.filter_chains_size() == 2);
  const FilterChain* a = chainWithSni(l, "a.passthrough.example.com");
  const FilterChain* b = chainWithSni(l, "b.passthrough.example.com");
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(a->has_transport_socket());
  CHECK(tcpProxyOf(*a).cluster() == "outbound|443||a-svc.bookinfo.svc.cluster.local");
  CHECK(tcpProxyOf(*b).cluster() == "outbound|8443||b-svc.bookinfo.svc.cluster.local");
}

TEST_CASE("gateway TCP server: tcp_proxy from the VirtualService tcp route") {
  Listeners ls(snapshotOf(kGateway), ingressProxy());
  const Listener& l = ls.at("0.0.0.0_31400");
  REQUIRE(l.filter_chains_size() == 1);
  CHECK(l.listener_filters_size() == 0);
  CHECK(tcpProxyOf(l.filter_chains(0)).cluster() == "outbound|9000||tcp-echo.default.svc.cluster.local");
}

TEST_CASE("gateways not selecting the proxy give it nothing; a duplicate TLS host is dropped") {
  Listeners other(snapshotOf(kGateway),
                  proxyFor(model::ProxyType::Router, "egress-1", "istio-system", "10.1.0.101", {{"istio", "egress"}}));
  CHECK(other.names.empty());

  std::string yaml = std::string(kGateway) + R"(
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: second, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-dup, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: SIMPLE, credentialName: other-cert}
)";
  Listeners dup(snapshotOf(yaml), ingressProxy());
  CHECK(dup.at("0.0.0.0_8443").filter_chains_size() == 2);
}

TEST_CASE("an AuthorizationPolicy on the gateway leads its HTTP and TCP chains") {
  std::string yaml = std::string(kGateway) + R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from:
    - source: {ipBlocks: [203.0.113.0/24]}
)";
  Listeners ls(snapshotOf(yaml), ingressProxy());
  std::vector<std::string> http = httpFilterNames(hcmOf(ls.at("0.0.0.0_8080").filter_chains(0)));
  REQUIRE(http.size() == 5);  // rbac, istio.alpn, fault, cors, router
  CHECK(http.front() == "envoy.filters.http.rbac");
  CHECK(http.back() == "envoy.filters.http.router");
  const FilterChain& tcp = ls.at("0.0.0.0_31400").filter_chains(0);
  REQUIRE(tcp.filters_size() == 2);
  CHECK(tcp.filters(0).name() == "envoy.filters.network.rbac");
  CHECK(tcpProxyOf(tcp).cluster() == "outbound|9000||tcp-echo.default.svc.cluster.local");
}

}  // namespace
}  // namespace mesh::xds::lds_test
