#include "proxy/security/workload_csr.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace mesh::proxy::security {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

std::string sslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char text[256] = {};
  ERR_error_string_n(e, text, sizeof(text));
  return text;
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Cert parseCert(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::chrono::system_clock::time_point timeOf(const ASN1_TIME* t) {
  struct tm parts {};
  if (!t || ASN1_TIME_to_tm(t, &parts) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

}  // namespace

std::string spiffeUri(std::string_view trustDomain, std::string_view ns, std::string_view serviceAccount) {
  return fmt::format("spiffe://{}/ns/{}/sa/{}", trustDomain, ns, serviceAccount);
}

void wipe(std::string& secret) {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

Result<KeyAndCsr> generateKeyAndCsr(std::string_view uri) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return fail(ErrorCode::Internal, "generating a key: " + sslError());
  std::unique_ptr<X509_REQ, Free> req(X509_REQ_new());
  std::unique_ptr<GENERAL_NAMES, Free> names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (!req || !names || !name || !text || !ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size()))) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return fail(ErrorCode::Internal, "building a CSR: " + sslError());
  }
  GENERAL_NAME_set0_value(name, GEN_URI, text);
  sk_GENERAL_NAME_push(names.get(), name);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 1, names.get());
  bool ok = exts && san && sk_X509_EXTENSION_push(exts, san) > 0;
  if (!ok) X509_EXTENSION_free(san);
  ok = ok && X509_REQ_set_version(req.get(), 0) == 1 && X509_REQ_set_pubkey(req.get(), key.get()) == 1 &&
       X509_REQ_add_extensions(req.get(), exts) == 1 && X509_REQ_sign(req.get(), key.get(), EVP_sha256()) > 0;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (!ok) return fail(ErrorCode::Internal, "building a CSR: " + sslError());
  Bio csrBio(BIO_new(BIO_s_mem()));
  Bio keyBio(BIO_new(BIO_s_mem()));
  if (!csrBio || !keyBio || PEM_write_bio_X509_REQ(csrBio.get(), req.get()) != 1 ||
      PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(ErrorCode::Internal, "encoding the key and CSR: " + sslError());
  return KeyAndCsr{drain(keyBio.get()), drain(csrBio.get())};
}

Result<CheckedChain> checkIssuedChain(const std::vector<std::string>& chain, std::string_view privateKeyPem,
                                      std::string_view rootPem, std::string_view uri) {
  if (chain.empty()) return fail(ErrorCode::InvalidInput, "the CA sent no certificate");
  Cert leaf = parseCert(chain.front());
  Cert root = parseCert(rootPem);
  if (!leaf) return fail(ErrorCode::InvalidInput, "the CA's certificate does not parse: " + sslError());
  if (!root) return fail(ErrorCode::InvalidInput, "the trusted root does not parse: " + sslError());
  std::vector<Cert> intermediates;
  for (size_t i = 1; i < chain.size(); ++i) {
    Cert c = parseCert(chain[i]);
    if (!c) return fail(ErrorCode::InvalidInput, "a certificate in the CA's chain does not parse: " + sslError());
    intermediates.push_back(std::move(c));
  }
  Bio keyBio(BIO_new_mem_buf(privateKeyPem.data(), static_cast<int>(privateKeyPem.size())));
  Key key(keyBio ? PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, "the CA's certificate does not certify the key this workload generated");
  }
  std::unique_ptr<GENERAL_NAMES, Free> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, nullptr, nullptr)));
  bool hasUri = false;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans.get(), i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
    hasUri = hasUri || value == uri;
  }
  if (!hasUri) return fail(ErrorCode::InvalidInput, fmt::format("the CA's certificate is not for {}", uri));

  std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  if (!store || !untrusted || X509_STORE_add_cert(store.get(), root.get()) != 1) {
    sk_X509_free(untrusted);
    return fail(ErrorCode::Internal, "certificate store: " + sslError());
  }
  for (const auto& c : intermediates) sk_X509_push(untrusted, c.get());
  std::unique_ptr<X509_STORE_CTX, Free> ctx(X509_STORE_CTX_new());
  bool verified = ctx && X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted) == 1 &&
                  X509_verify_cert(ctx.get()) == 1;
  int code = ctx ? X509_STORE_CTX_get_error(ctx.get()) : X509_V_ERR_UNSPECIFIED;
  ctx.reset();
  sk_X509_free(untrusted);
  ERR_clear_error();
  if (!verified)
    return fail(ErrorCode::InvalidInput, fmt::format("the CA's certificate does not chain to the trusted root: {}",
                                                     X509_verify_cert_error_string(code)));
  return CheckedChain{timeOf(X509_get0_notBefore(leaf.get())), timeOf(X509_get0_notAfter(leaf.get()))};
}

}  // namespace mesh::proxy::security
