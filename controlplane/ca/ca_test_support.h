// Test helpers for the CA's tests: CSRs built to order (good ones and each kind of bad one)
// and a second, unrelated CA. Used only by *_test.cpp in this folder; single-threaded.
#pragma once

#include <openssl/pem.h>

#include <string>
#include <vector>

#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/pki.h"

namespace mesh::ca::testing {

struct CsrSpec {
  EVP_PKEY* key = nullptr;       // the key the CSR carries
  EVP_PKEY* signWith = nullptr;  // signs the CSR; default `key` (another key: a bad signature)
  std::vector<std::string> uris;
  std::vector<std::string> dnsNames;
  size_t padBytes = 0;  // a comment extension of this size, to make the request large
};

inline std::string makeCsr(const CsrSpec& spec) {
  CertRequest req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), spec.key);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  if (!spec.uris.empty() || !spec.dnsNames.empty()) {
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    auto add = [&](int type, const std::string& value) {
      GENERAL_NAME* name = GENERAL_NAME_new();
      ASN1_IA5STRING* text = ASN1_IA5STRING_new();
      ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
      GENERAL_NAME_set0_value(name, type, text);
      sk_GENERAL_NAME_push(names, name);
    };
    for (const auto& u : spec.uris) add(GEN_URI, u);
    for (const auto& d : spec.dnsNames) add(GEN_DNS, d);
    sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, names));
    GENERAL_NAMES_free(names);
  }
  if (spec.padBytes > 0) {
    std::string pad(spec.padBytes, 'x');
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_netscape_comment, pad.c_str()));
  }
  if (sk_X509_EXTENSION_num(exts) > 0) X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), spec.signWith ? spec.signWith : spec.key, EVP_sha256());
  std::unique_ptr<BIO, OpenSslFree> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

inline PKey newKey(KeyAlgorithm algorithm = KeyAlgorithm::EcdsaP256) { return std::move(*generateKey(algorithm)); }

inline std::string csrFor(EVP_PKEY* key, const std::string& uri) {
  CsrSpec spec;
  spec.key = key;
  spec.uris = {uri};
  return makeCsr(spec);
}

inline std::string joinPem(const std::vector<std::string>& pems) {
  std::string out;
  for (const auto& p : pems) out += p;
  return out;
}

}  // namespace mesh::ca::testing
