// The IstioCertificateService over real gRPC TLS on loopback: token callers, mTLS renewals,
// and what each may not do.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <filesystem>

#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/ca_server.h"
#include "controlplane/ca/ca_test_support.h"
#include "istio/security/v1alpha1/ca.grpc.pb.h"

namespace {

using namespace mesh::ca;
using namespace mesh::ca::testing;
using namespace std::chrono_literals;
using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using istio::v1::auth::IstioCertificateService;

constexpr const char* kToken = "test-token-0123456789";
constexpr const char* kSleep = "spiffe://cluster.local/ns/default/sa/sleep";
constexpr const char* kAdmin = "spiffe://cluster.local/ns/default/sa/admin";

struct Fixture {
  std::unique_ptr<CertificateAuthority> ca = std::move(*createEphemeralCa(CaOptions{}));
  std::unique_ptr<CaServer> server;

  Fixture() {
    CaServerOptions options;
    options.address = "127.0.0.1:0";
    auto started = CaServer::start(*ca, kToken, options);
    REQUIRE(started);
    server = std::move(*started);
  }

  // A client that trusts `root` and, when given, presents `chainPem` with `keyPem`.
  std::unique_ptr<IstioCertificateService::Stub> client(const std::string& root, const std::string& chainPem = {},
                                                        const std::string& keyPem = {}) const {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = root;
    ssl.pem_cert_chain = chainPem;
    ssl.pem_private_key = keyPem;
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()), grpc::SslCredentials(ssl));
    return IstioCertificateService::NewStub(channel);
  }

  grpc::Status call(IstioCertificateService::Stub& stub, const IstioCertificateRequest& request,
                    IstioCertificateResponse& response, const char* authorization = nullptr) const {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    if (authorization) context.AddMetadata("authorization", authorization);
    return stub.CreateCertificate(&context, request, &response);
  }
};

IstioCertificateRequest requestFor(EVP_PKEY* key, const std::string& uri) {
  IstioCertificateRequest request;
  request.set_csr(csrFor(key, uri));
  return request;
}

std::string bearer() { return std::string("Bearer ") + kToken; }

}  // namespace

TEST_CASE("a caller with the token gets a certificate for the identity in its CSR") {
  Fixture f;
  auto stub = f.client(f.ca->rootPem());
  PKey key = newKey();
  IstioCertificateRequest request = requestFor(key.get(), kSleep);
  request.set_validity_duration(3600);
  IstioCertificateResponse response;
  grpc::Status status = f.call(*stub, request, response, bearer().c_str());
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  REQUIRE(response.cert_chain_size() == 2);
  CHECK(response.cert_chain(1) == f.ca->rootPem());
  auto id = f.ca->verifyWorkloadCertificate(response.cert_chain(0));
  REQUIRE(id);
  CHECK(id->uri() == kSleep);
  Cert leaf = std::move(*parseCertificatePem(response.cert_chain(0)));
  CHECK(notAfter(leaf.get()) - std::chrono::system_clock::now() <= 3601s);

  SUBCASE("the scheme is case-insensitive") {
    std::string lower = std::string("bearer ") + kToken;
    CHECK(f.call(*stub, request, response, lower.c_str()).ok());
  }
}

TEST_CASE("callers without valid credentials are refused") {
  Fixture f;
  auto stub = f.client(f.ca->rootPem());
  PKey key = newKey();
  IstioCertificateRequest request = requestFor(key.get(), kSleep);
  IstioCertificateResponse response;
  CHECK(f.call(*stub, request, response, "Bearer wrong").error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(f.call(*stub, request, response, kToken).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status none = f.call(*stub, request, response);
  CHECK(none.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(none.error_message().find("no credentials") != std::string::npos);
  CHECK(response.cert_chain_size() == 0);
}

TEST_CASE("token callers still get only valid requests signed") {
  Fixture f;
  auto stub = f.client(f.ca->rootPem());
  PKey key = newKey();
  IstioCertificateResponse response;
  auto foreign = requestFor(key.get(), "spiffe://example.org/ns/default/sa/sleep");
  CHECK(f.call(*stub, foreign, response, bearer().c_str()).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  auto tooLong = requestFor(key.get(), kSleep);
  tooLong.set_validity_duration(3600L * 24 * 365);
  CHECK(f.call(*stub, tooLong, response, bearer().c_str()).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  auto impersonating = requestFor(key.get(), kSleep);
  (*impersonating.mutable_metadata()->mutable_fields())["ImpersonatedIdentity"].set_string_value(kAdmin);
  CHECK(f.call(*stub, impersonating, response, bearer().c_str()).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // Larger than the server takes at all: gRPC refuses it before the service sees it.
  IstioCertificateRequest huge;
  huge.set_csr(std::string(100 * 1024, 'x'));
  CHECK(f.call(*stub, huge, response, bearer().c_str()).error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_CASE("a workload certificate renews its own identity over mTLS, and only that") {
  Fixture f;
  PKey first = newKey();
  IstioCertificateResponse issued;
  {
    auto stub = f.client(f.ca->rootPem());
    REQUIRE(f.call(*stub, requestFor(first.get(), kSleep), issued, bearer().c_str()).ok());
  }
  std::string chain = joinPem({issued.cert_chain().begin(), issued.cert_chain().end()});
  auto mtls = f.client(f.ca->rootPem(), chain, *privateKeyPem(first.get()));
  PKey next = newKey();

  IstioCertificateResponse renewed;
  grpc::Status same = f.call(*mtls, requestFor(next.get(), kSleep), renewed);
  REQUIRE_MESSAGE(same.ok(), same.error_message());
  Cert leaf = std::move(*parseCertificatePem(renewed.cert_chain(0)));
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), next.get()) == 1);

  IstioCertificateResponse other;
  grpc::Status escalation = f.call(*mtls, requestFor(next.get(), kAdmin), other);
  CHECK(escalation.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(other.cert_chain_size() == 0);

  SUBCASE("the token decides when both are sent") {
    IstioCertificateResponse byToken;
    CHECK(f.call(*mtls, requestFor(next.get(), kAdmin), byToken, bearer().c_str()).ok());
  }
  SUBCASE("a certificate of another CA gets no certificate") {
    auto otherCa = std::move(*createEphemeralCa(CaOptions{}));
    auto foreign = otherCa->signWorkload(*checkCsr(csrFor(first.get(), kSleep), "cluster.local"), 0s);
    REQUIRE(foreign);
    auto stranger = f.client(f.ca->rootPem(), joinPem(foreign->chainPem), *privateKeyPem(first.get()));
    IstioCertificateResponse none;
    CHECK_FALSE(f.call(*stranger, requestFor(next.get(), kSleep), none).ok());
    CHECK(none.cert_chain_size() == 0);
  }
}

TEST_CASE("clients that do not trust the CA's root cannot complete the handshake") {
  Fixture f;
  auto otherCa = std::move(*createEphemeralCa(CaOptions{}));
  auto stub = f.client(otherCa->rootPem());
  PKey key = newKey();
  IstioCertificateResponse response;
  CHECK(f.call(*stub, requestFor(key.get(), kSleep), response, bearer().c_str()).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("the token file is created 0600 once and then reused") {
  char tmpl[] = "/tmp/mesh-ca-token-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/sub/token";
  auto created = loadOrCreateToken(path);
  REQUIRE(created);
  CHECK(created->size() == 64);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = loadOrCreateToken(path);
  REQUIRE(again);
  CHECK(*again == *created);
  std::filesystem::remove_all(dir);
}
