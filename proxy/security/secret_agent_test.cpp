// The certificate agent writes "default" and "ROOTCA" into the data plane's SecretStore and
// dumps them with the key redacted; AdsSecretSync copies ADS Secrets there after the data
// plane accepted them.
#include <doctest/doctest.h>

#include "proxy/security/ads_secret_sync.h"
#include "proxy/security/secret_agent.h"
#include "proxy/security/security_test_support.h"
#include "proxy/xds/sds_resources.h"

namespace {

using namespace mesh::proxy::security;
using namespace mesh::proxy::security::testing;
using namespace std::chrono_literals;
using mesh::proxy::XdsSnapshot;
using mesh::proxy::dataplane::SecretStore;

bool waitUntil(const std::function<bool()>& ready, std::chrono::seconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

struct RecordingConsumer : mesh::proxy::ConfigConsumer {
  std::string rejectWith;
  mesh::Result<void> apply(std::shared_ptr<const XdsSnapshot>) override {
    if (!rejectWith.empty()) return mesh::fail(mesh::ErrorCode::InvalidInput, rejectWith);
    return {};
  }
};

envoy::extensions::transport_sockets::tls::v3::Secret gatewaySecret(const std::string& name, const std::string& cert) {
  envoy::extensions::transport_sockets::tls::v3::Secret s;
  s.set_name(name);
  s.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_bytes(cert);
  s.mutable_tls_certificate()->mutable_private_key()->set_inline_string("KEY");
  return s;
}

}  // namespace

TEST_CASE("the agent puts the workload certificate in the store as default and ROOTCA") {
  CaFixture f;
  CertificateManagerOptions options;
  options.client = f.clientOptions();
  auto store = std::make_shared<SecretStore>();
  SecretAgent agent(options, store);
  CHECK_FALSE(agent.ready());
  CHECK(agent.notReadyReason().find("spiffe://cluster.local/ns/payments/sa/api") != std::string::npos);
  agent.start();
  REQUIRE(waitUntil([&] { return agent.ready(); }, 10s));
  CHECK(agent.notReadyReason().empty());
  auto workload = store->get("default");
  auto root = store->get("ROOTCA");
  REQUIRE(workload);
  REQUIRE(root);
  CHECK(workload->hasCertificate());
  CHECK(workload->privateKeyPem.find("PRIVATE KEY") != std::string::npos);
  CHECK(root->trustedCaPem == f.authority->rootPem());
  CHECK_FALSE(root->hasCertificate());

  auto dumped = agent.dumpedSecrets();
  REQUIRE(dumped.size() == 2);
  CHECK(dumped[0].resource.name() == "default");
  CHECK(dumped[0].resource.tls_certificate().private_key().inline_string() == "[redacted]");
  CHECK(dumped[0].resource.tls_certificate().certificate_chain().inline_bytes() == workload->certificateChainPem);
  CHECK(dumped[1].resource.name() == "ROOTCA");
  CHECK(!dumped[0].version.empty());
  agent.stop();
}

TEST_CASE("the agent is not ready and says why while the CA cannot be verified") {
  CaFixture f;
  f.write("other-root.pem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
  CertificateManagerOptions options;
  options.client = f.clientOptions();
  options.client.rootCertFile = (f.dir / "other-root.pem").string();
  options.initialBackoff = 50ms;
  auto store = std::make_shared<SecretStore>();
  SecretAgent agent(options, store);
  agent.start();
  REQUIRE(waitUntil([&] { return agent.notReadyReason().find("no workload certificate") != std::string::npos; }, 10s));
  CHECK_FALSE(agent.ready());
  CHECK_FALSE(store->get("default"));
  agent.stop();
}

TEST_CASE("ADS secrets reach the store once the data plane accepted them, and leave with them") {
  RecordingConsumer plane;
  auto store = std::make_shared<SecretStore>();
  store->set("default", {"CHAIN", "AGENTKEY", ""});
  AdsSecretSync sync(plane, store);

  auto snap = std::make_shared<XdsSnapshot>();
  snap->secrets["kubernetes://shop"] = {gatewaySecret("kubernetes://shop", "CERT1"), "1", {}};
  snap->secrets["default"] = {gatewaySecret("default", "WIRE"), "1", {}};  // never taken from the wire
  REQUIRE(sync.apply(snap));
  auto shop = store->get("kubernetes://shop");
  REQUIRE(shop);
  CHECK(shop->certificateChainPem == "CERT1");
  CHECK(shop->privateKeyPem == "KEY");
  CHECK(store->get("default")->certificateChainPem == "CHAIN");

  // Rejected by the data plane: the store keeps what it had.
  auto next = std::make_shared<XdsSnapshot>();
  next->secrets["kubernetes://shop"] = {gatewaySecret("kubernetes://shop", "CERT2"), "2", {}};
  plane.rejectWith = "bad listener";
  CHECK_FALSE(sync.apply(next));
  CHECK(store->get("kubernetes://shop")->certificateChainPem == "CERT1");
  plane.rejectWith.clear();
  uint64_t before = store->version();
  REQUIRE(sync.apply(next));
  CHECK(store->get("kubernetes://shop")->certificateChainPem == "CERT2");
  CHECK(store->version() > before);
  // The same content again does not move the store.
  before = store->version();
  REQUIRE(sync.apply(next));
  CHECK(store->version() == before);

  REQUIRE(sync.apply(std::make_shared<XdsSnapshot>()));
  CHECK_FALSE(store->get("kubernetes://shop"));
  CHECK(store->get("default"));  // the agent's stays
}

TEST_CASE("tlsSecretOf reads tls_certificate and validation_context") {
  envoy::extensions::transport_sockets::tls::v3::Secret ca;
  ca.set_name("kubernetes://shop-cacert");
  ca.mutable_validation_context()->mutable_trusted_ca()->set_inline_string("CA");
  auto out = tlsSecretOf(ca);
  CHECK(out.trustedCaPem == "CA");
  CHECK_FALSE(out.hasCertificate());
  CHECK(out.hasValidation());
}
