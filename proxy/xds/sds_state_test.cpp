// SDS on the ADS stream: Secrets named by held listeners (and clusters) are subscribed after
// them, received, NACKed when unusable, unsubscribed when no longer named; the agent's own
// "default" and "ROOTCA" are never asked for. Also the redaction /config_dump applies.
#include <doctest/doctest.h>

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/xds/ads_state.h"
#include "proxy/xds/sds_resources.h"
#include "proxy/xds/xds_test_resources.h"

namespace mesh::proxy {
namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryResponse;
using namespace testing;

struct AcceptAll : ConfigConsumer {
  Result<void> apply(std::shared_ptr<const XdsSnapshot>) override { return {}; }
};

envoy::config::core::v3::Node routerNode() {
  envoy::config::core::v3::Node n;
  n.set_id("router~127.0.0.1~ingress-1.istio-system~istio-system.svc.cluster.local");
  return n;
}

void sdsRef(tls::SdsSecretConfig& c, const std::string& name) {
  c.set_name(name);
  c.mutable_sds_config()->mutable_ads();
}

// A TCP listener terminating TLS with `credential` (and its "-cacert"), plus the mesh's own
// default/ROOTCA on a second chain.
envoy::config::listener::v3::Listener tlsListener(const std::string& name, const std::string& credential) {
  auto l = tcpListener(name, 8443, "outbound|443||a");
  tls::DownstreamTlsContext gateway;
  sdsRef(*gateway.mutable_common_tls_context()->add_tls_certificate_sds_secret_configs(), credential);
  sdsRef(*gateway.mutable_common_tls_context()
              ->mutable_combined_validation_context()
              ->mutable_validation_context_sds_secret_config(),
         credential + "-cacert");
  auto* socket = l.mutable_filter_chains(0)->mutable_transport_socket();
  socket->set_name("envoy.transport_sockets.tls");
  socket->mutable_typed_config()->PackFrom(gateway);
  tls::DownstreamTlsContext mesh;
  sdsRef(*mesh.mutable_common_tls_context()->add_tls_certificate_sds_secret_configs(), "default");
  sdsRef(*mesh.mutable_common_tls_context()->mutable_validation_context_sds_secret_config(), "ROOTCA");
  auto* second = l.add_filter_chains();
  *second->mutable_filters() = l.filter_chains(0).filters();
  second->mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  second->mutable_transport_socket()->mutable_typed_config()->PackFrom(mesh);
  return l;
}

tls::Secret certSecret(const std::string& name) {
  tls::Secret s;
  s.set_name(name);
  s.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_bytes("-----BEGIN CERTIFICATE-----\n");
  s.mutable_tls_certificate()->mutable_private_key()->set_inline_bytes("-----BEGIN PRIVATE KEY-----\n");
  return s;
}

tls::Secret caSecret(const std::string& name) {
  tls::Secret s;
  s.set_name(name);
  s.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes("-----BEGIN CERTIFICATE-----\n");
  return s;
}

template <class... M>
DiscoveryResponse sotw(std::string_view type, const std::string& version, const std::string& nonce, const M&... msgs) {
  DiscoveryResponse r;
  r.set_type_url(std::string(type));
  r.set_version_info(version);
  r.set_nonce(nonce);
  (r.add_resources()->PackFrom(msgs), ...);
  return r;
}

// Brings the state to "listeners requested": one static cluster accepted.
void startWithCluster(AdsState& state, bool delta) {
  state.startStream(delta);
  if (delta) {
    DeltaDiscoveryResponse r;
    r.set_type_url(std::string(type_url::kCluster));
    r.set_nonce("c1");
    auto* res = r.add_resources();
    res->set_name("outbound|443||a");
    res->mutable_resource()->PackFrom(staticCluster("outbound|443||a", 8443));
    state.onDeltaResponse(r);
  } else {
    state.onResponse(sotw(type_url::kCluster, "1", "c1", staticCluster("outbound|443||a", 8443)));
  }
}

}  // namespace

TEST_CASE("adsSecretNames lists the ADS secrets of listeners and clusters, without the agent's") {
  CHECK(adsSecretNames(tlsListener("gw", "kubernetes://shop")) ==
        std::vector<std::string>{"kubernetes://shop", "kubernetes://shop-cacert"});
  auto cluster = staticCluster("egress", 443);
  tls::UpstreamTlsContext upstream;
  sdsRef(*upstream.mutable_common_tls_context()->add_tls_certificate_sds_secret_configs(), "kubernetes://client");
  // A secret from a non-ADS config source (Istio's agent socket) is not fetched from meshd.
  upstream.mutable_common_tls_context()->mutable_validation_context_sds_secret_config()->set_name("file-root");
  cluster.mutable_transport_socket()->mutable_typed_config()->PackFrom(upstream);
  CHECK(adsSecretNames(cluster) == std::vector<std::string>{"kubernetes://client"});
  CHECK(isAgentSecretName("default"));
  CHECK(isAgentSecretName("ROOTCA"));
  CHECK_FALSE(isAgentSecretName("kubernetes://default"));
}

TEST_CASE("SotW: secrets are requested after the listener naming them and stored when they arrive") {
  AcceptAll consumer;
  AdsState state(routerNode(), consumer, AdsState::Options{});
  startWithCluster(state, false);
  AdsRequests afterLds = state.onResponse(sotw(type_url::kListener, "1", "l1", tlsListener("gw", "kubernetes://shop")));
  REQUIRE(afterLds.sotw.size() == 2);
  CHECK(afterLds.sotw[0].type_url() == type_url::kSecret);
  CHECK(std::vector<std::string>(afterLds.sotw[0].resource_names().begin(), afterLds.sotw[0].resource_names().end()) ==
        std::vector<std::string>{"kubernetes://shop", "kubernetes://shop-cacert"});
  CHECK(afterLds.sotw[1].type_url() == type_url::kListener);
  // Secrets do not hold the listener warming.
  CHECK(state.initialized());

  AdsRequests afterSds = state.onResponse(sotw(type_url::kSecret, "s1", "n1", certSecret("kubernetes://shop"),
                                               caSecret("kubernetes://shop-cacert"), certSecret("kubernetes://other")));
  REQUIRE(afterSds.sotw.size() == 1);
  CHECK(afterSds.sotw[0].response_nonce() == "n1");
  CHECK_FALSE(afterSds.sotw[0].has_error_detail());
  auto held = state.view().active->secrets;
  CHECK(held.size() == 2);  // the one not asked for is ignored
  CHECK(held.at("kubernetes://shop").version == "s1");
  CHECK(state.stats().types.at(std::string(type_url::kSecret)).updateSuccess == 1);

  // A secret with a file name (meshd never sends one) or without a key is NACKed.
  tls::Secret bad = certSecret("kubernetes://shop");
  bad.mutable_tls_certificate()->mutable_private_key()->set_filename("/etc/key.pem");
  AdsRequests nack = state.onResponse(sotw(type_url::kSecret, "s2", "n2", bad));
  REQUIRE(nack.sotw.size() == 1);
  CHECK(nack.sotw[0].has_error_detail());
  CHECK(nack.sotw[0].error_detail().message().find("inline PEM") != std::string::npos);
  CHECK(state.view().active->secrets.at("kubernetes://shop").version == "s1");

  // The listener goes: the secrets are dropped and unsubscribed.
  AdsRequests gone = state.onResponse(sotw(type_url::kListener, "2", "l2"));
  CHECK(state.view().active->secrets.empty());
  REQUIRE(gone.sotw.size() == 2);
  CHECK(gone.sotw[0].type_url() == type_url::kSecret);
  CHECK(gone.sotw[0].resource_names().empty());
}

TEST_CASE("delta: secrets are subscribed, received and resubscribed with their versions on a new stream") {
  AcceptAll consumer;
  AdsState state(routerNode(), consumer, AdsState::Options{});
  startWithCluster(state, true);
  DeltaDiscoveryResponse lds;
  lds.set_type_url(std::string(type_url::kListener));
  lds.set_nonce("l1");
  auto* res = lds.add_resources();
  res->set_name("gw");
  res->mutable_resource()->PackFrom(tlsListener("gw", "kubernetes://shop"));
  AdsRequests afterLds = state.onDeltaResponse(lds);
  REQUIRE(afterLds.delta.size() == 2);
  CHECK(afterLds.delta[0].type_url() == type_url::kSecret);
  CHECK(afterLds.delta[0].resource_names_subscribe_size() == 2);

  DeltaDiscoveryResponse sds;
  sds.set_type_url(std::string(type_url::kSecret));
  sds.set_nonce("s1");
  auto* secret = sds.add_resources();
  secret->set_name("kubernetes://shop");
  secret->set_version("v7");
  secret->mutable_resource()->PackFrom(certSecret("kubernetes://shop"));
  AdsRequests ack = state.onDeltaResponse(sds);
  REQUIRE(ack.delta.size() == 1);
  CHECK_FALSE(ack.delta[0].has_error_detail());
  CHECK(state.view().active->secrets.contains("kubernetes://shop"));

  state.streamEnded();
  AdsRequests again = state.startStream(true);
  const envoy::service::discovery::v3::DeltaDiscoveryRequest* sdsAgain = nullptr;
  for (const auto& r : again.delta)
    if (r.type_url() == type_url::kSecret) sdsAgain = &r;
  REQUIRE(sdsAgain != nullptr);
  CHECK(sdsAgain->initial_resource_versions().at("kubernetes://shop") == "v7");

  // A delta removal drops the secret.
  DeltaDiscoveryResponse removal;
  removal.set_type_url(std::string(type_url::kSecret));
  removal.set_nonce("s2");
  removal.add_removed_resources("kubernetes://shop");
  state.onDeltaResponse(removal);
  CHECK_FALSE(state.view().active->secrets.contains("kubernetes://shop"));
}

TEST_CASE("redactSecret hides inline private keys as Envoy's admin does") {
  tls::Secret s = certSecret("kubernetes://shop");
  s.mutable_tls_certificate()->mutable_password()->set_inline_string("hunter2");
  redactSecret(s);
  CHECK(s.tls_certificate().private_key().inline_string() == "[redacted]");
  CHECK(s.tls_certificate().password().inline_string() == "[redacted]");
  CHECK(s.tls_certificate().certificate_chain().inline_bytes() == "-----BEGIN CERTIFICATE-----\n");
  tls::Secret file = certSecret("f");
  file.mutable_tls_certificate()->mutable_private_key()->set_filename("/k.pem");
  redactSecret(file);
  CHECK(file.tls_certificate().private_key().filename() == "/k.pem");
}

}  // namespace mesh::proxy
