// DownstreamTlsContext / UpstreamTlsContext compilation: meshd's ISTIO_MUTUAL shapes compile;
// bad PEM, a missing file and a bad SAN regex fail with errors naming the field; istio.alpn and
// the ALPN an upstream connection offers.
#include <doctest/doctest.h>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/test_config.h"
#include "proxy/dataplane/tls_config.h"
#include "proxy/dataplane/tls_handshake.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

std::string tlsListener(const std::string& tlsContext) {
  return R"(name: "tls" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains {
      transport_socket { name: "envoy.transport_sockets.tls" typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] { )" +
         tlsContext + R"( } } }
      filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "c" } } } })";
}

const char* kIstioMutual = R"(
  common_tls_context {
    tls_certificate_sds_secret_configs { name: "default" sds_config { ads {} resource_api_version: V3 } }
    combined_validation_context {
      default_validation_context { match_typed_subject_alt_names { san_type: URI matcher { prefix: "spiffe://cluster.local/" } } }
      validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} resource_api_version: V3 } } }
    alpn_protocols: ["h2", "http/1.1"]
    tls_params { tls_minimum_protocol_version: TLSv1_2 tls_maximum_protocol_version: TLSv1_3
      cipher_suites: ["ECDHE-ECDSA-AES256-GCM-SHA384", "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-ECDSA-AES128-GCM-SHA256]"] } }
  require_client_certificate { value: true })";

}  // namespace

TEST_CASE("compile tls: meshd's downstream and upstream ISTIO_MUTUAL shapes") {
  auto l = compileListener(testing::parseListener(tlsListener(kIstioMutual)));
  REQUIRE_MESSAGE(l.has_value(), l.error().message);
  const auto& tls = (*l)->filterChains.at(0)->tls;
  REQUIRE(tls);
  CHECK(tls->requireClientCertificate);
  CHECK(tls->common.certificates.at(0).sdsName == "default");
  CHECK(tls->common.validationSdsName == "ROOTCA");
  CHECK(tls->common.sanMatchers.at(0).type == SanMatcher::Type::Uri);
  CHECK(tls->common.alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(tls->common.cipherList ==
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");

  auto c = compileCluster(testing::parseCluster(R"(
    name: "outbound|80||svc.ns.svc.cluster.local" type: STATIC connect_timeout { seconds: 1 }
    transport_socket_matches { name: "tlsMode-istio" match { fields { key: "tlsMode" value { string_value: "istio" } } }
      transport_socket { name: "envoy.transport_sockets.tls" typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
          common_tls_context {
            tls_certificate_sds_secret_configs { name: "default" sds_config { ads {} } }
            combined_validation_context { default_validation_context {}
              validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} } } }
            alpn_protocols: ["istio-peer-exchange", "istio"] }
          sni: "outbound_.80_._.svc.ns.svc.cluster.local" } } } }
    transport_socket_matches { name: "tlsMode-disabled" match {} transport_socket { name: "envoy.transport_sockets.raw_buffer" } }
    load_assignment { cluster_name: "x" endpoints {
      lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 80 } } }
        metadata { filter_metadata { key: "envoy.transport_socket_match" value { fields { key: "tlsMode" value { string_value: "istio" } } } } } }
      lb_endpoints { endpoint { address { socket_address { address: "10.0.0.2" port_value: 80 } } } } } })"),
                          nullptr);
  REQUIRE_MESSAGE(c.has_value(), c.error().message);
  const Cluster& cluster = **c;
  auto mesh = cluster.tlsFor(cluster.endpoints.at(0));
  REQUIRE(mesh);
  CHECK(mesh->sni == "outbound_.80_._.svc.ns.svc.cluster.local");
  CHECK(mesh->common.alpn.at(0) == "istio-peer-exchange");
  CHECK(cluster.endpoints.at(0).requiresTls);
  CHECK_FALSE(cluster.tlsFor(cluster.endpoints.at(1)));
  CHECK_FALSE(cluster.endpoints.at(1).requiresTls);
}

TEST_CASE("compile tls: errors name the field") {
  auto badPem = compileListener(testing::parseListener(tlsListener(R"(common_tls_context { tls_certificates {
      certificate_chain { inline_string: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" }
      private_key { inline_string: "nope" } } })")));
  REQUIRE_FALSE(badPem.has_value());
  CHECK(badPem.error().message.find("filter_chains[0].transport_socket.common_tls_context.tls_certificates[0].certificate_chain") !=
        std::string::npos);

  auto missing = compileListener(testing::parseListener(tlsListener(R"(common_tls_context { tls_certificates {
      certificate_chain { filename: "/nonexistent/cert.pem" } private_key { filename: "/nonexistent/key.pem" } } })")));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("tls_certificates[0].certificate_chain.filename") != std::string::npos);
  CHECK(missing.error().message.find("/nonexistent/cert.pem") != std::string::npos);

  auto badRegex = compileListener(testing::parseListener(tlsListener(R"(common_tls_context {
      tls_certificate_sds_secret_configs { name: "default" }
      validation_context { match_typed_subject_alt_names { san_type: URI matcher { safe_regex { regex: "spiffe://(" } } } } })")));
  REQUIRE_FALSE(badRegex.has_value());
  CHECK(badRegex.error().message.find("validation_context.match_typed_subject_alt_names[0].matcher") != std::string::npos);

  auto noValidation = compileListener(testing::parseListener(tlsListener(R"(common_tls_context {
      tls_certificate_sds_secret_configs { name: "default" } } require_client_certificate { value: true })")));
  REQUIRE_FALSE(noValidation.has_value());
  CHECK(noValidation.error().message.find("require_client_certificate") != std::string::npos);

  auto badCiphers = compileListener(testing::parseListener(tlsListener(R"(common_tls_context {
      tls_certificate_sds_secret_configs { name: "default" } tls_params { cipher_suites: "NOT-A-CIPHER" } })")));
  REQUIRE_FALSE(badCiphers.has_value());
  CHECK(badCiphers.error().message.find("tls_params.cipher_suites") != std::string::npos);
}

TEST_CASE("compile tls: istio.alpn per upstream protocol, the cluster's opt-out, and the ALPN offered") {
  auto listener = testing::parseListener(R"(
    name: "out" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "s" rds { route_config_name: "80" }
        http_filters { name: "istio.alpn" typed_config {
          [type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig] {
            alpn_override { upstream_protocol: HTTP11 alpn_override: ["istio-http/1.1", "istio", "http/1.1"] }
            alpn_override { upstream_protocol: HTTP11 alpn_override: ["ignored"] }
            alpn_override { upstream_protocol: HTTP2 alpn_override: ["istio-h2", "istio", "h2"] } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })");
  auto compiled = compileListener(listener);
  REQUIRE_MESSAGE(compiled.has_value(), compiled.error().message);
  const auto& hcm = std::get<HttpConnectionManagerConfig>((*compiled)->filterChains[0]->filter);
  REQUIRE(hcm.alpnOverride != nullptr);
  // The first entry for a protocol counts, as in Istio's filter.
  CHECK(hcm.alpnOverride->http11 == std::vector<std::string>{"istio-http/1.1", "istio", "http/1.1"});
  CHECK(hcm.alpnOverride->http2 == std::vector<std::string>{"istio-h2", "istio", "h2"});
  CHECK(hcm.alpnOverride->http10.empty());

  auto cluster = compileCluster(testing::parseCluster(R"(name: "c" type: STATIC
    metadata { filter_metadata { key: "istio" value { fields { key: "alpn_override" value { string_value: "false" } } } } })"),
                                nullptr);
  REQUIRE_MESSAGE(cluster.has_value(), cluster.error().message);
  CHECK_FALSE((*cluster)->istioAlpnOverride);
  CHECK(istioAlpnOverride(hcm, **cluster) == nullptr);
  auto plain = compileCluster(testing::parseCluster(R"(name: "d" type: STATIC)"), nullptr);
  REQUIRE(plain.has_value());
  REQUIRE(istioAlpnOverride(hcm, **plain) != nullptr);
  CHECK(*istioAlpnOverride(hcm, **plain) == hcm.alpnOverride->http11);

  // What a connection offers: the override replaces the context's list; HTTP/1.1 never offers
  // h2; Envoy's per-codec fallback when nothing is left; TCP keeps the context's list.
  UpstreamTlsConfig ctx;
  ctx.common.alpn = {"istio-peer-exchange", "istio"};
  using Codec = UpstreamAlpn::Codec;
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Http1, &hcm.alpnOverride->http11}) == hcm.alpnOverride->http11);
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Tcp, nullptr}) == ctx.common.alpn);
  ctx.common.alpn = {"h2", "http/1.1"};
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Http1, nullptr}) == std::vector<std::string>{"http/1.1"});
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Http2, nullptr}) == ctx.common.alpn);
  ctx.common.alpn = {"h2"};
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Http1, nullptr}) == std::vector<std::string>{"http/1.1"});
  ctx.common.alpn.clear();
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Http2, nullptr}) == std::vector<std::string>{"h2"});
  CHECK(offeredAlpn(ctx, UpstreamAlpn{Codec::Tcp, nullptr}).empty());

  auto bad = testing::parseListener(R"(
    name: "bad" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "s" rds { route_config_name: "80" }
        http_filters { name: "istio.alpn" typed_config {
          [type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig] {
            alpn_override { upstream_protocol: HTTP11 alpn_override: [""] } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })");
  auto refused = compileListener(bad);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("alpn_override[0]") != std::string::npos);
}
