#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/ca_routes.h"
#include "controlplane/ca/ca_test_support.h"
#include "controlplane/ca/certificate_authority.h"
#include "controlplane/ca/csr_check.h"

namespace {

using namespace mesh::ca;
using namespace mesh::ca::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr const char* kSleep = "spiffe://cluster.local/ns/default/sa/sleep";

std::unique_ptr<CertificateAuthority> newCa(CaOptions options = {}) { return std::move(*createEphemeralCa(options)); }

Cert leafOf(const IssuedCertificate& issued) { return std::move(*parseCertificatePem(issued.chainPem.front())); }

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/mesh-ca-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

void writeFile(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

mode_t modeOf(const std::filesystem::path& p) {
  struct stat st {};
  stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

// An intermediate CA certificate signed by `rootKey`/`root`, for plugged-in CA tests.
Cert makeIntermediate(EVP_PKEY* key, EVP_PKEY* rootKey, X509* root) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("intermediate"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(root));
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, root, cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE"}, std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
        std::pair{NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert.get(), rootKey, EVP_sha256());
  return cert;
}

}  // namespace

TEST_CASE("SPIFFE identities parse strictly") {
  auto id = parseSpiffeId(kSleep);
  REQUIRE(id);
  CHECK(id->trustDomain == "cluster.local");
  CHECK(id->ns == "default");
  CHECK(id->serviceAccount == "sleep");
  CHECK(id->uri() == kSleep);
  for (const char* bad : {"spiffe://cluster.local/ns/default", "https://cluster.local/ns/a/sa/b",
                          "spiffe://Cluster.local/ns/a/sa/b", "spiffe://cluster.local/ns/a/sa/b/c",
                          "spiffe://cluster.local/ns/../sa/b", "spiffe://cluster.local/ns/a/sa/b?x=1",
                          "spiffe://td:8080/ns/a/sa/b", "spiffe:///ns/a/sa/b", "spiffe://cluster.local/sa/b/ns/a"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseSpiffeId(bad));
  }
  CHECK_FALSE(parseSpiffeId("spiffe://cluster.local/ns/" + std::string(2100, 'a') + "/sa/b"));
}

TEST_CASE("a CSR becomes a SPIFFE workload certificate with Istio's profile") {
  auto ca = newCa();
  PKey key = newKey();
  auto csr = checkCsr(csrFor(key.get(), kSleep), "cluster.local");
  REQUIRE(csr);
  Clock::time_point before = Clock::now();
  auto issued = ca->signWorkload(*csr, 0s);
  REQUIRE(issued);
  REQUIRE(issued->chainPem.size() == 2);
  CHECK(issued->chainPem.back() == ca->rootPem());
  CHECK(issued->identity.uri() == kSleep);

  Cert leaf = leafOf(*issued);
  int sanExtensions = 0;
  SubjectAltNames sans = certificateSans(leaf.get(), sanExtensions);
  CHECK(sanExtensions == 1);
  CHECK(sans.uris == std::vector<std::string>{kSleep});
  CHECK(sans.others == 0);
  // The SAN is critical: the subject is empty, as in Istio's workload certificates.
  CHECK(X509_EXTENSION_get_critical(
            X509_get_ext(leaf.get(), X509_get_ext_by_NID(leaf.get(), NID_subject_alt_name, -1))) == 1);
  CHECK(X509_NAME_entry_count(X509_get_subject_name(leaf.get())) == 0);
  CHECK_FALSE(isCaCertificate(leaf.get()));
  CHECK((X509_get_key_usage(leaf.get()) & (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT)) ==
        (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK((X509_get_key_usage(leaf.get()) & KU_KEY_CERT_SIGN) == 0);
  CHECK((X509_get_extended_key_usage(leaf.get()) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) ==
        (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), key.get()) == 1);
  // Default TTL: 24 hours from issuance.
  auto ttl = notAfter(leaf.get()) - before;
  CHECK(ttl > 24h - 5min);
  CHECK(ttl <= 24h + 1min);
  Cert root = std::move(*parseCertificatePem(ca->rootPem()));
  CHECK(X509_verify(leaf.get(), X509_get0_pubkey(root.get())) == 1);
  // The CA accepts its own certificate back as a caller's identity.
  auto id = ca->verifyWorkloadCertificate(issued->chainPem.front());
  REQUIRE(id);
  CHECK(id->uri() == kSleep);
}

TEST_CASE("requested validity is honoured up to the maximum") {
  CaOptions options;
  options.maxTtl = 48h;
  auto ca = newCa(options);
  PKey key = newKey();
  auto csr = checkCsr(csrFor(key.get(), kSleep), "cluster.local");
  REQUIRE(csr);
  Clock::time_point before = Clock::now();
  auto hour = ca->signWorkload(*csr, 3600s);
  REQUIRE(hour);
  auto ttl = notAfter(leafOf(*hour).get()) - before;
  CHECK(ttl > 59min);
  CHECK(ttl <= 61min);
  CHECK(ca->signWorkload(*csr, 48h));
  auto tooLong = ca->signWorkload(*csr, 49h);
  REQUIRE_FALSE(tooLong);
  CHECK(tooLong.error().message.find("greater than the max allowed TTL") != std::string::npos);
  CHECK_FALSE(ca->signWorkload(*csr, -5s));
}

TEST_CASE("CSRs that break a rule are refused with the rule") {
  PKey key = newKey();
  PKey other = newKey();
  auto refused = [](const std::string& pem, const std::string& needle) {
    auto r = checkCsr(pem, "cluster.local");
    REQUIRE_FALSE(r);
    CAPTURE(r.error().message);
    CHECK(r.error().message.find(needle) != std::string::npos);
  };
  SUBCASE("a signature by another key") {
    CsrSpec spec;
    spec.key = key.get();
    spec.signWith = other.get();
    spec.uris = {kSleep};
    refused(makeCsr(spec), "signature does not verify");
  }
  SUBCASE("a foreign trust domain") {
    refused(csrFor(key.get(), "spiffe://example.org/ns/default/sa/sleep"), "trust domain");
  }
  SUBCASE("two SPIFFE SANs") {
    CsrSpec spec;
    spec.key = key.get();
    spec.uris = {kSleep, "spiffe://cluster.local/ns/default/sa/admin"};
    refused(makeCsr(spec), "2 subject alternative names");
  }
  SUBCASE("a SPIFFE SAN plus a DNS name") {
    CsrSpec spec;
    spec.key = key.get();
    spec.uris = {kSleep};
    spec.dnsNames = {"sleep.default.svc"};
    refused(makeCsr(spec), "2 subject alternative names");
  }
  SUBCASE("a DNS name only") {
    CsrSpec spec;
    spec.key = key.get();
    spec.dnsNames = {"sleep.default.svc"};
    refused(makeCsr(spec), "not a SPIFFE URI");
  }
  SUBCASE("no SAN") {
    CsrSpec spec;
    spec.key = key.get();
    refused(makeCsr(spec), "no subjectAltName");
  }
  SUBCASE("an oversized request") {
    CsrSpec spec;
    spec.key = key.get();
    spec.uris = {kSleep};
    spec.padBytes = 20000;
    refused(makeCsr(spec), "at most 16384 accepted");
  }
  SUBCASE("an RSA key larger than 4096 bits") {
    auto text = readSmallFile(MESH_SOURCE_DIR "/controlplane/ca/testdata/rsa8192-test-key.pem", 16384);
    REQUIRE(text);
    PKey big = std::move(*parsePrivateKeyPem(*text));
    refused(csrFor(big.get(), kSleep), "at most 4096");
  }
  SUBCASE("not PEM") { refused("hello", "not a PEM certificate signing request"); }
  SUBCASE("an RSA 2048 key is fine") {
    PKey rsa = newKey(KeyAlgorithm::Rsa2048);
    CHECK(checkCsr(csrFor(rsa.get(), kSleep), "cluster.local"));
  }
}

TEST_CASE("only this CA's valid workload certificates identify a caller") {
  auto ca = newCa();
  auto otherCa = newCa();
  PKey key = newKey();
  auto csr = checkCsr(csrFor(key.get(), kSleep), "cluster.local");
  REQUIRE(csr);
  auto foreign = otherCa->signWorkload(*csr, 0s);
  REQUIRE(foreign);
  CHECK_FALSE(ca->verifyWorkloadCertificate(foreign->chainPem.front()));
  auto serving = ca->issueServingCertificate({"localhost"}, {"127.0.0.1"}, 1h);
  REQUIRE(serving);
  auto asCaller = ca->verifyWorkloadCertificate(serving->chainPem.front());
  REQUIRE_FALSE(asCaller);
  CHECK(asCaller.error().message.find("SPIFFE") != std::string::npos);
  CHECK_FALSE(ca->verifyWorkloadCertificate(ca->rootPem()));
}

TEST_CASE("a self-signed root is created once in --ca-dir and reused") {
  TempDir dir;
  auto first = loadOrCreateSelfSignedCa((dir.path / "ca").string(), CaOptions{});
  REQUIRE(first);
  CHECK(modeOf(dir.path / "ca") == 0700);
  CHECK(modeOf(dir.path / "ca" / "ca-key.pem") == 0600);
  CHECK(modeOf(dir.path / "ca" / "ca-cert.pem") == 0600);
  Cert root = std::move(*parseCertificatePem((*first)->rootPem()));
  char org[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(root.get()), NID_organizationName, org, sizeof(org));
  CHECK(std::string(org) == "cluster.local");
  CHECK(isCaCertificate(root.get()));
  CHECK(notAfter(root.get()) - Clock::now() > std::chrono::hours(24 * 3649));

  auto second = loadOrCreateSelfSignedCa((dir.path / "ca").string(), CaOptions{});
  REQUIRE(second);
  CHECK((*second)->rootPem() == (*first)->rootPem());
  // The reloaded CA signs certificates that chain to the same root.
  PKey key = newKey();
  auto issued = (*second)->signWorkload(*checkCsr(csrFor(key.get(), kSleep), "cluster.local"), 0s);
  REQUIRE(issued);
  CHECK((*first)->verifyWorkloadCertificate(issued->chainPem.front()));

  SUBCASE("a key readable by others is refused") {
    chmod((dir.path / "ca" / "ca-key.pem").c_str(), 0644);
    auto r = loadOrCreateSelfSignedCa((dir.path / "ca").string(), CaOptions{});
    REQUIRE_FALSE(r);
    CHECK(r.error().hint.find("chmod 600") != std::string::npos);
  }
  SUBCASE("a lone key is never replaced") {
    std::filesystem::remove(dir.path / "ca" / "ca-cert.pem");
    auto r = loadOrCreateSelfSignedCa((dir.path / "ca").string(), CaOptions{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == mesh::ErrorCode::Conflict);
    CHECK(std::filesystem::exists(dir.path / "ca" / "ca-key.pem"));
  }
}

TEST_CASE("a plugged-in intermediate signs with its chain to the root") {
  TempDir dir;
  PKey rootKey = newKey();
  Cert root = std::move(*createSelfSignedRoot(rootKey.get(), "cluster.local", 24h * 30));
  PKey midKey = newKey();
  Cert mid = makeIntermediate(midKey.get(), rootKey.get(), root.get());
  std::string rootPem = *certificatePem(root.get());
  std::string midPem = *certificatePem(mid.get());
  writeFile(dir.path / "ca-cert.pem", midPem);
  writeFile(dir.path / "ca-key.pem", *privateKeyPem(midKey.get()));
  writeFile(dir.path / "cert-chain.pem", midPem + rootPem);  // Istio's cert-chain.pem starts with ca-cert
  writeFile(dir.path / "wrong-key.pem", *privateKeyPem(rootKey.get()));

  PluggedCaFiles files{(dir.path / "ca-cert.pem").string(), (dir.path / "ca-key.pem").string(),
                       (dir.path / "cert-chain.pem").string()};
  auto ca = loadPluggedCa(files, CaOptions{});
  REQUIRE(ca);
  CHECK((*ca)->rootPem() == rootPem);
  PKey key = newKey();
  auto issued = (*ca)->signWorkload(*checkCsr(csrFor(key.get(), kSleep), "cluster.local"), 0s);
  REQUIRE(issued);
  REQUIRE(issued->chainPem.size() == 3);
  CHECK(issued->chainPem[1] == midPem);
  CHECK(issued->chainPem[2] == rootPem);
  CHECK((*ca)->verifyWorkloadCertificate(issued->chainPem.front()));

  PluggedCaFiles noChain = files;
  noChain.chain.clear();
  auto orphan = loadPluggedCa(noChain, CaOptions{});
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().message.find("no chain") != std::string::npos);
  PluggedCaFiles wrongKey = files;
  wrongKey.key = (dir.path / "wrong-key.pem").string();
  auto mismatch = loadPluggedCa(wrongKey, CaOptions{});
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message.find("does not belong") != std::string::npos);
  // A plugged-in root alone (Istio's cacerts with ca-cert = root) is its own chain.
  writeFile(dir.path / "root-cert.pem", rootPem);
  writeFile(dir.path / "root-key.pem", *privateKeyPem(rootKey.get()));
  CHECK(loadPluggedCa({(dir.path / "root-cert.pem").string(), (dir.path / "root-key.pem").string(), ""}, CaOptions{}));
}

TEST_CASE("the root certificate is served read-only at /ca/root-cert.pem") {
  auto ca = newCa();
  mesh::monitoring::RouteTable routes;
  REQUIRE(addCaRoutes(routes, *ca));
  mesh::monitoring::HttpRequest get{"GET", "/ca/root-cert.pem", "", ""};
  auto response = routes.dispatch(get);
  CHECK(response.status == 200);
  CHECK(response.body == ca->rootPem());
  CHECK(response.contentType == "application/x-pem-file");
  mesh::monitoring::HttpRequest post{"POST", "/ca/root-cert.pem", "", "x"};
  CHECK(routes.dispatch(post).status == 405);
}
