// CDS TLS: DestinationRules (ISTIO_MUTUAL's mesh ALPN, Istio's cluster metadata
// istio.alpn_override "false" on SIMPLE/MUTUAL clusters) and auto mTLS without them.
#include <doctest/doctest.h>

#include "controlplane/xds/cluster_test_support.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

using namespace mesh;

namespace {

constexpr const char* kMesh = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.shop.svc.cluster.local, bank.example.com]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.0.0.1}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop, namespace: shop}
spec:
  host: shop.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: bank, namespace: shop}
spec:
  host: bank.example.com
  trafficPolicy: {tls: {mode: SIMPLE, sni: bank.example.com}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rpc, namespace: shop}
spec:
  hosts: [rpc.shop.svc.cluster.local, vault.example.com]
  resolution: STATIC
  ports: [{number: 9090, name: grpc, protocol: GRPC}]
  endpoints: [{address: 10.0.0.2}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rpc, namespace: shop}
spec:
  host: rpc.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: vault, namespace: shop}
spec:
  host: vault.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
)";

std::map<std::string, envoy::config::cluster::v3::Cluster> clusters(const char* yaml = kMesh) {
  return mesh::xds::cds_test::sidecarClusters(yaml);
}

std::vector<std::string> alpnOf(const envoy::config::cluster::v3::Cluster& c) {
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
  REQUIRE(c.transport_socket().typed_config().UnpackTo(&ctx));
  return {ctx.common_tls_context().alpn_protocols().begin(), ctx.common_tls_context().alpn_protocols().end()};
}

std::string alpnOverrideOf(const envoy::config::cluster::v3::Cluster& c) {
  auto istio = c.metadata().filter_metadata().find("istio");
  if (istio == c.metadata().filter_metadata().end()) return "";
  auto f = istio->second.fields().find("alpn_override");
  return f == istio->second.fields().end() ? "" : f->second.string_value();
}

}  // namespace

TEST_CASE("cluster TLS: istio.alpn_override is \"false\" only on a DestinationRule's own SIMPLE/MUTUAL TLS") {
  auto cs = clusters();
  const auto& mesh = cs.at("outbound|8080||shop.shop.svc.cluster.local");
  const auto& bank = cs.at("outbound|8080||bank.example.com");
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
  REQUIRE(mesh.transport_socket().typed_config().UnpackTo(&ctx));
  CHECK(std::vector<std::string>(ctx.common_tls_context().alpn_protocols().begin(),
                                 ctx.common_tls_context().alpn_protocols().end()) ==
        std::vector<std::string>{"istio-peer-exchange", "istio"});
  CHECK(alpnOverrideOf(mesh).empty());
  REQUIRE(bank.has_transport_socket());
  CHECK(alpnOverrideOf(bank) == "false");
}

TEST_CASE("cluster TLS: HTTP/2 clusters advertise h2 (ISTIO_MUTUAL after the mesh ALPNs, SIMPLE alone)") {
  auto cs = clusters();
  CHECK(alpnOf(cs.at("outbound|9090||rpc.shop.svc.cluster.local")) ==
        std::vector<std::string>{"istio-peer-exchange", "istio", "h2"});
  CHECK(alpnOf(cs.at("outbound|9090||vault.example.com")) == std::vector<std::string>{"h2"});
  CHECK(alpnOf(cs.at("outbound|8080||bank.example.com")).empty());
}

namespace {

// Auto mTLS: no DestinationRule TLS; "pay" runs mesh proxies (a WorkloadEntry with a service
// account), "legacy" declares DISABLE for its namespace, "ext" is outside the mesh.
constexpr const char* kAutoMtls = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: pay, namespace: pay}
spec:
  hosts: [pay.pay.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: pay}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: pay-1, namespace: pay}
spec: {address: 10.0.0.5, serviceAccount: pay-sa, labels: {app: pay}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: legacy}
spec:
  hosts: [legacy.legacy.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.0.0.6}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: legacy}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: pay}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
)";

}  // namespace

TEST_CASE("cluster TLS: auto mTLS picks mesh mTLS per endpoint, with the service's identities as SANs") {
  auto cs = clusters(kAutoMtls);
  const auto& pay = cs.at("outbound|8080||pay.pay.svc.cluster.local");
  CHECK_FALSE(pay.has_transport_socket());
  REQUIRE(pay.transport_socket_matches_size() == 2);
  const auto& istio = pay.transport_socket_matches(0);
  CHECK(istio.name() == "tlsMode-istio");
  CHECK(istio.match().fields().at("tlsMode").string_value() == "istio");
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
  REQUIRE(istio.transport_socket().typed_config().UnpackTo(&ctx));
  CHECK(ctx.sni() == "outbound_.8080_._.pay.pay.svc.cluster.local");
  const auto& sans = ctx.common_tls_context().combined_validation_context().default_validation_context()
                         .match_typed_subject_alt_names();
  REQUIRE(sans.size() == 1);
  CHECK(sans[0].matcher().exact() == "spiffe://cluster.local/ns/pay/sa/pay-sa");
  CHECK(pay.transport_socket_matches(1).name() == "tlsMode-disabled");
  CHECK(pay.transport_socket_matches(1).match().fields().empty());
  // A namespace that disables mTLS, and a service outside the mesh: plain text, no matches.
  CHECK(cs.at("outbound|8080||legacy.legacy.svc.cluster.local").transport_socket_matches_size() == 0);
  CHECK(cs.at("outbound|443||api.example.com").transport_socket_matches_size() == 0);
}
