// meshproxy's certificate client against an in-process meshd CA on loopback TLS.
#include <doctest/doctest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/ca_server.h"
#include "proxy/security/ca_client.h"
#include "proxy/security/certificate_manager.h"
#include "proxy/security/sds_secrets.h"
#include "proxy/security/security_test_support.h"
#include "proxy/security/workload_csr.h"
#include "udpa/annotations/sensitive.pb.h"

namespace {

using namespace mesh::proxy::security;
using namespace mesh::proxy::security::testing;
using namespace std::chrono_literals;
namespace ca = mesh::ca;

constexpr const char* kIdentity = "spiffe://cluster.local/ns/payments/sa/api";

// Counts change callbacks and lets a test wait for the n-th, bounded.
struct ChangeLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<const WorkloadCertificate>> seen;

  void add(const std::shared_ptr<const WorkloadCertificate>& c) {
    {
      std::lock_guard lock(mu);
      seen.push_back(c);
    }
    cv.notify_all();
  }
  bool waitFor(size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return seen.size() >= n; });
  }
};

}  // namespace

TEST_CASE("a workload gets a certificate for its identity with the token") {
  CaFixture f;
  CaClientOptions options = f.clientOptions();
  options.requestedValidity = 2h;
  CaClient client(options);
  auto cert = client.fetch(nullptr);
  REQUIRE_MESSAGE(cert, cert.error().message);
  CHECK((*cert)->identity == kIdentity);
  CHECK((*cert)->rootPem == f.authority->rootPem());
  CHECK((*cert)->privateKeyPem.find("BEGIN PRIVATE KEY") != std::string::npos);
  CHECK((*cert)->certChainPem.find(f.authority->rootPem()) == std::string::npos);  // the root travels as ROOTCA
  auto id = f.authority->verifyWorkloadCertificate((*cert)->certChainPem);
  REQUIRE(id);
  CHECK(id->uri() == kIdentity);
  auto lifetime = (*cert)->expiry - (*cert)->issuedAt;
  CHECK(lifetime > 2h - 2min);
  CHECK(lifetime <= 2h);
}

TEST_CASE("a renewal authenticates with the current certificate when the token is gone") {
  CaFixture f;
  CaClient client(f.clientOptions());
  auto first = client.fetch(nullptr);
  REQUIRE(first);
  std::filesystem::remove(f.dir / "token");
  auto renewed = client.fetch(first->get());
  REQUIRE_MESSAGE(renewed, renewed.error().message);
  CHECK((*renewed)->privateKeyPem != (*first)->privateKeyPem);  // a fresh key every time
  CHECK((*renewed)->identity == kIdentity);
  // Without a certificate to renew with, nothing authenticates the workload any more.
  auto none = client.fetch(nullptr);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("token") != std::string::npos);
}

TEST_CASE("the client refuses a CA whose certificate does not chain to its root") {
  CaFixture f;
  auto stranger = std::move(*ca::createEphemeralCa(ca::CaOptions{}));
  f.write("root.pem", stranger->rootPem());
  CaClient client(f.clientOptions());
  auto cert = client.fetch(nullptr);
  REQUIRE_FALSE(cert);
  CHECK(cert.error().code == mesh::ErrorCode::Unavailable);

  CaClientOptions noRoot = f.clientOptions();
  noRoot.rootCertFile.clear();
  auto refused = CaClient(noRoot).fetch(nullptr);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("never trusted on first use") != std::string::npos);

  CertificateManagerOptions options;
  options.client = f.clientOptions();
  options.initialBackoff = 50ms;
  CertificateManager manager(options);
  manager.start();
  CHECK_FALSE(manager.waitForCertificate(1s));
  CHECK(manager.current() == nullptr);
  CHECK_FALSE(manager.lastError().empty());
}

TEST_CASE("the manager issues, renews on request and on schedule, and reports each change") {
  CaFixture f;
  CertificateManagerOptions options;
  options.client = f.clientOptions();
  options.client.requestedValidity = 4s;  // renewed at about 2s
  CertificateManager manager(options);
  ChangeLog log;
  manager.onChange([&](const std::shared_ptr<const WorkloadCertificate>& c) { log.add(c); });
  manager.start();
  REQUIRE(manager.waitForCertificate(10s));
  REQUIRE(log.waitFor(1, 10s));
  auto first = manager.current();
  REQUIRE(first);

  manager.renewNow();
  REQUIRE(log.waitFor(2, 10s));
  // Then the schedule: half of the 4 s lifetime, give or take the jitter.
  REQUIRE(log.waitFor(3, 15s));
  manager.stop();
  std::lock_guard lock(log.mu);
  CHECK(log.seen[1]->privateKeyPem != log.seen[0]->privateKeyPem);
  CHECK(log.seen[2]->privateKeyPem != log.seen[1]->privateKeyPem);
  CHECK(log.seen[0] == first);
  for (const auto& c : log.seen) CHECK(c->identity == kIdentity);
  CHECK(manager.lastError().empty());
}

TEST_CASE("the certificate renders as Istio's SDS secrets default and ROOTCA") {
  WorkloadCertificate cert;
  cert.certChainPem = "CHAIN";
  cert.privateKeyPem = "KEY";
  cert.rootPem = "ROOT";
  auto secrets = renderSdsSecrets(cert);
  REQUIRE(secrets.size() == 2);
  CHECK(secrets[0].name() == "default");
  CHECK(secrets[0].tls_certificate().certificate_chain().inline_bytes() == "CHAIN");
  CHECK(secrets[0].tls_certificate().private_key().inline_bytes() == "KEY");
  CHECK(secrets[1].name() == "ROOTCA");
  CHECK(secrets[1].validation_context().trusted_ca().inline_bytes() == "ROOT");
  // Dumps redact fields marked sensitive; the private key must be one of them.
  const auto* field =
      envoy::extensions::transport_sockets::tls::v3::TlsCertificate::descriptor()->FindFieldByName("private_key");
  REQUIRE(field);
  CHECK(field->options().GetExtension(udpa::annotations::sensitive));
}

TEST_CASE("CSRs carry exactly the workload's SPIFFE identity") {
  auto made = generateKeyAndCsr(kIdentity);
  REQUIRE(made);
  auto checked = ca::checkCsr(made->csrPem, "cluster.local");
  REQUIRE(checked);
  CHECK(checked->identity.uri() == kIdentity);
  CHECK(spiffeUri("cluster.local", "payments", "api") == kIdentity);
}
