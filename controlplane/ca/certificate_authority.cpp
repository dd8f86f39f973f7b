#include "controlplane/ca/certificate_authority.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

namespace mesh::ca {
namespace {

// Certificates start a minute in the past so a peer whose clock is slightly behind accepts them.
constexpr std::chrono::seconds kBackdate = 60s;

using Clock = std::chrono::system_clock;

Result<void> setSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return fail(ErrorCode::Internal, "random serial: " + openSslError());
  bytes[0] &= 0x7f;  // positive, as RFC 5280 requires
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr), BN_free);
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    return fail(ErrorCode::Internal, "serial number: " + openSslError());
  return {};
}

Result<void> addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return fail(ErrorCode::Internal, fmt::format("extension {}: {}", OBJ_nid2sn(nid), openSslError()));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return fail(ErrorCode::Internal, fmt::format("extension {}: {}", OBJ_nid2sn(nid), openSslError()));
  return {};
}

Result<void> setValidity(X509* cert, Clock::time_point from, Clock::time_point to) {
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), Clock::to_time_t(from)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), Clock::to_time_t(to)))
    return fail(ErrorCode::Internal, "validity: " + openSslError());
  return {};
}

Result<void> addName(GENERAL_NAMES* names, int type, std::string_view value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (!name || !text || !ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()))) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return fail(ErrorCode::Internal, "subject alternative name: " + openSslError());
  }
  GENERAL_NAME_set0_value(name, type, text);
  sk_GENERAL_NAME_push(names, name);
  return {};
}

Result<void> addIpName(GENERAL_NAMES* names, const std::string& ip) {
  ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
  if (!octets) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, fmt::format("{:?} is not an IP address", ip));
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (!name) {
    ASN1_OCTET_STRING_free(octets);
    return fail(ErrorCode::Internal, "subject alternative name: " + openSslError());
  }
  GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
  sk_GENERAL_NAME_push(names, name);
  return {};
}

}  // namespace

CertificateAuthority::CertificateAuthority(PKey signingKey, Cert signingCert, std::vector<Cert> chain,
                                           CaOptions options)
    : key_(std::move(signingKey)),
      cert_(std::move(signingCert)),
      chain_(std::move(chain)),
      options_(std::move(options)) {
  // PEM encoding of certificates that already parsed or were just made cannot fail short of
  // memory exhaustion; an empty string then makes every handshake fail visibly.
  issuerChainPem_.push_back(certificatePem(cert_.get()).value_or(""));
  for (const auto& c : chain_) issuerChainPem_.push_back(certificatePem(c.get()).value_or(""));
  rootPem_ = issuerChainPem_.back();
}

Clock::time_point CertificateAuthority::rootNotAfter() const {
  return notAfter(chain_.empty() ? cert_.get() : chain_.back().get());
}

Result<Cert> CertificateAuthority::signLeaf(EVP_PKEY* subjectKey, GENERAL_NAMES* sans, bool emptySubject,
                                            Clock::time_point notAfterTime) const {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1)
    return fail(ErrorCode::Internal, "new certificate: " + openSslError());
  if (auto ok = setSerial(cert.get()); !ok) return Failure(ok.error());
  Clock::time_point now = Clock::now();
  if (auto ok = setValidity(cert.get(), now - kBackdate, notAfterTime); !ok) return Failure(ok.error());
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get())) != 1 ||
      X509_set_pubkey(cert.get(), subjectKey) != 1)
    return fail(ErrorCode::Internal, "certificate fields: " + openSslError());
  // Istio's workload certificates have an empty subject; RFC 5280 then wants the SAN critical.
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans, emptySubject ? 1 : 0, X509V3_ADD_DEFAULT) != 1)
    return fail(ErrorCode::Internal, "subjectAltName: " + openSslError());
  X509* issuer = cert_.get();
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
        std::pair{NID_ext_key_usage, "serverAuth,clientAuth"}, std::pair{NID_authority_key_identifier, "keyid"}}) {
    if (auto ok = addExtension(cert.get(), issuer, nid, value); !ok) return Failure(ok.error());
  }
  if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0)
    return fail(ErrorCode::Internal, "signing: " + openSslError());
  return cert;
}

Result<IssuedCertificate> CertificateAuthority::signWorkload(const CheckedCsr& csr,
                                                             std::chrono::seconds validity) const {
  if (csr.identity.trustDomain != options_.trustDomain)
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} is not in trust domain {}", csr.identity.uri(), options_.trustDomain));
  if (validity.count() < 0)
    return fail(ErrorCode::InvalidInput, fmt::format("requested validity {} is negative", validity));
  if (validity.count() == 0) validity = options_.defaultTtl;
  if (validity > options_.maxTtl)
    return fail(ErrorCode::InvalidInput,
                fmt::format("requested TTL {} is greater than the max allowed TTL {}", validity, options_.maxTtl));
  Clock::time_point until = std::min(Clock::now() + validity, notAfter(cert_.get()));

  GeneralNames sans(GENERAL_NAMES_new());
  if (!sans) return fail(ErrorCode::Internal, "subject alternative name: " + openSslError());
  std::string uri = csr.identity.uri();
  if (auto ok = addName(sans.get(), GEN_URI, uri); !ok) return Failure(ok.error());
  auto cert = signLeaf(csr.publicKey.get(), sans.get(), true, until);
  if (!cert) return Failure(cert.error());
  auto pem = certificatePem(cert->get());
  if (!pem) return Failure(pem.error());
  IssuedCertificate out{{std::move(*pem)}, csr.identity, notAfter(cert->get())};
  out.chainPem.insert(out.chainPem.end(), issuerChainPem_.begin(), issuerChainPem_.end());
  return out;
}

Result<KeyAndChain> CertificateAuthority::issueServingCertificate(const std::vector<std::string>& dnsNames,
                                                                  const std::vector<std::string>& ipAddresses,
                                                                  std::chrono::seconds validity) const {
  auto key = generateKey(KeyAlgorithm::EcdsaP256);
  if (!key) return Failure(key.error());
  GeneralNames sans(GENERAL_NAMES_new());
  if (!sans) return fail(ErrorCode::Internal, "subject alternative name: " + openSslError());
  for (const auto& dns : dnsNames)
    if (auto ok = addName(sans.get(), GEN_DNS, dns); !ok) return Failure(ok.error());
  for (const auto& ip : ipAddresses)
    if (auto ok = addIpName(sans.get(), ip); !ok) return Failure(ok.error());
  auto cert = signLeaf(key->get(), sans.get(), true, std::min(Clock::now() + validity, notAfter(cert_.get())));
  if (!cert) return Failure(cert.error());
  auto certPem = certificatePem(cert->get());
  if (!certPem) return Failure(certPem.error());
  auto keyPem = privateKeyPem(key->get());
  if (!keyPem) return Failure(keyPem.error());
  KeyAndChain out{{std::move(*certPem)}, std::move(*keyPem)};
  out.chainPem.insert(out.chainPem.end(), issuerChainPem_.begin(), issuerChainPem_.end());
  return out;
}

Result<SpiffeId> CertificateAuthority::verifyWorkloadCertificate(std::string_view leafPem,
                                                                 std::string_view presentedChainPem) const {
  auto leaf = parseCertificatePem(leafPem);
  if (!leaf) return fail(ErrorCode::InvalidInput, "the peer certificate does not parse: " + leaf.error().message);
  std::vector<Cert> presented;
  if (!presentedChainPem.empty()) {
    auto extra = parseCertificatesPem(presentedChainPem);
    if (extra) presented = std::move(*extra);
  }
  std::unique_ptr<X509_STORE, OpenSslFree> store(X509_STORE_new());
  X509* root = chain_.empty() ? cert_.get() : chain_.back().get();
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  if (!store || !untrusted || X509_STORE_add_cert(store.get(), root) != 1) {
    sk_X509_free(untrusted);
    return fail(ErrorCode::Internal, "certificate store: " + openSslError());
  }
  if (!chain_.empty()) sk_X509_push(untrusted, cert_.get());
  for (const auto& c : chain_) sk_X509_push(untrusted, c.get());
  for (const auto& c : presented) sk_X509_push(untrusted, c.get());
  std::unique_ptr<X509_STORE_CTX, OpenSslFree> ctx(X509_STORE_CTX_new());
  bool verified = ctx && X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), untrusted) == 1 &&
                  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) == 1 &&
                  X509_verify_cert(ctx.get()) == 1;
  int code = ctx ? X509_STORE_CTX_get_error(ctx.get()) : X509_V_ERR_UNSPECIFIED;
  ctx.reset();
  sk_X509_free(untrusted);
  ERR_clear_error();
  if (!verified)
    return fail(ErrorCode::InvalidInput,
                fmt::format("the peer certificate does not verify: {}", X509_verify_cert_error_string(code)));
  // Chaining to the root is not enough when the root is shared: only this CA's certificates count.
  if (X509_check_issued(cert_.get(), leaf->get()) != X509_V_OK || X509_verify(leaf->get(), key_.get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, "the peer certificate was not issued by this CA");
  }
  if (isCaCertificate(leaf->get())) return fail(ErrorCode::InvalidInput, "the peer certificate is a CA certificate");
  int sanExtensions = 0;
  SubjectAltNames sans = certificateSans(leaf->get(), sanExtensions);
  if (sanExtensions != 1 || sans.uris.size() != 1 || sans.others != 0)
    return fail(ErrorCode::InvalidInput, "the peer certificate does not carry exactly one SPIFFE identity");
  auto id = parseSpiffeId(sans.uris.front());
  if (!id) return Failure(id.error());
  if (id->trustDomain != options_.trustDomain)
    return fail(ErrorCode::InvalidInput,
                fmt::format("the peer identity {} is not in trust domain {}", id->uri(), options_.trustDomain));
  return id;
}

Result<Cert> createSelfSignedRoot(EVP_PKEY* key, std::string_view organization, std::chrono::seconds validity) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1)
    return fail(ErrorCode::Internal, "new certificate: " + openSslError());
  if (auto ok = setSerial(cert.get()); !ok) return Failure(ok.error());
  Clock::time_point now = Clock::now();
  if (auto ok = setValidity(cert.get(), now - kBackdate, now + validity); !ok) return Failure(ok.error());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(organization.data()),
                                 static_cast<int>(organization.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1)
    return fail(ErrorCode::Internal, "root certificate fields: " + openSslError());
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto ok = addExtension(cert.get(), cert.get(), nid, value); !ok) return Failure(ok.error());
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return fail(ErrorCode::Internal, "signing: " + openSslError());
  return cert;
}

}  // namespace mesh::ca
