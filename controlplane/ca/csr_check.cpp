#include "controlplane/ca/csr_check.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace mesh::ca {
namespace {

Result<void> checkKey(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (bits < 2048)
      return fail(ErrorCode::InvalidInput, fmt::format("RSA key of {} bits: at least 2048 needed", bits));
    if (bits > 4096)
      return fail(ErrorCode::InvalidInput, fmt::format("RSA key of {} bits: at most 4096 accepted", bits));
    return {};
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
      ERR_clear_error();
      return fail(ErrorCode::InvalidInput, "EC key without a named curve: use P-256 or P-384");
    }
    std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384") return {};
    return fail(ErrorCode::InvalidInput, fmt::format("EC key on curve {}: use P-256 or P-384", name));
  }
  return fail(ErrorCode::InvalidInput, "unsupported key type: use ECDSA P-256/P-384 or RSA 2048-4096");
}

}  // namespace

Result<CheckedCsr> checkCsr(std::string_view pem, std::string_view trustDomain) {
  if (pem.size() > kMaxCsrPemBytes)
    return fail(ErrorCode::InvalidInput,
                fmt::format("CSR of {} bytes: at most {} accepted", pem.size(), kMaxCsrPemBytes));
  std::unique_ptr<BIO, OpenSslFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertRequest req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, "not a PEM certificate signing request");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, "the CSR has no usable public key");
  }
  if (auto ok = checkKey(key); !ok) return Failure(ok.error());
  // Proof of possession: the requester holds the private key of the key to be certified.
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, "the CSR's signature does not verify with its public key");
  }

  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  int sanExtensions = 0;
  GeneralNames names;
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    ++sanExtensions;
    names.reset(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ERR_clear_error();
  if (sanExtensions == 0)
    return fail(ErrorCode::InvalidInput, "the CSR requests no subjectAltName: it needs one SPIFFE URI");
  if (sanExtensions > 1) return fail(ErrorCode::InvalidInput, "the CSR has more than one subjectAltName extension");
  if (!names) return fail(ErrorCode::InvalidInput, "the CSR's subjectAltName extension does not parse");
  SubjectAltNames sans = subjectAltNames(names.get());
  if (sans.uris.size() + sans.others != 1)
    return fail(ErrorCode::InvalidInput,
                fmt::format("the CSR requests {} subject alternative names: exactly one SPIFFE URI is issued",
                            sans.uris.size() + sans.others));
  if (sans.uris.empty()) return fail(ErrorCode::InvalidInput, "the CSR's subject alternative name is not a SPIFFE URI");
  auto id = parseSpiffeId(sans.uris.front());
  if (!id) return Failure(id.error());
  if (id->trustDomain != trustDomain)
    return fail(ErrorCode::InvalidInput, fmt::format("{} is in trust domain {:?}; this CA issues for {:?}", id->uri(),
                                                     id->trustDomain, trustDomain));

  EVP_PKEY_up_ref(key);
  return CheckedCsr{PKey(key), std::move(*id)};
}

}  // namespace mesh::ca
