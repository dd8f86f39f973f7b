// OpenSSL for meshd's CA: owning pointers, PEM in and out, key generation, SAN and validity
// facts of certificates and requests. Stateless functions; any thread. Error messages never
// contain key material.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::ca {

struct OpenSslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using Cert = std::unique_ptr<X509, OpenSslFree>;
using CertRequest = std::unique_ptr<X509_REQ, OpenSslFree>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, OpenSslFree>;

enum class KeyAlgorithm { EcdsaP256, Rsa2048 };

// The text of the most recent OpenSSL error (or "unknown OpenSSL error"); clears the queue.
std::string openSslError();

Result<PKey> generateKey(KeyAlgorithm algorithm);
// PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
Result<std::string> privateKeyPem(EVP_PKEY* key);
Result<std::string> certificatePem(X509* cert);
Result<PKey> parsePrivateKeyPem(std::string_view pem);
// Every certificate in a PEM bundle, in order; none is an error.
Result<std::vector<Cert>> parseCertificatesPem(std::string_view pem);
Result<Cert> parseCertificatePem(std::string_view pem);
Cert copyCert(X509* cert);

// The names in a SAN extension, split by kind.
struct SubjectAltNames {
  std::vector<std::string> uris;
  size_t others = 0;  // DNS names, IP addresses, e-mail and other kinds
};
SubjectAltNames subjectAltNames(const GENERAL_NAMES* names);
// A certificate's SANs; `extensions` counts subjectAltName extensions (more than one is malformed).
SubjectAltNames certificateSans(X509* cert, int& extensions);

std::chrono::system_clock::time_point notAfter(const X509* cert);
std::chrono::system_clock::time_point notBefore(const X509* cert);
bool isCaCertificate(X509* cert);

// `bytes` random bytes from OpenSSL's CSPRNG, hex-encoded.
Result<std::string> randomHex(size_t bytes);

// Files: read whole with a size bound; written 0600 through a temporary name and rename.
Result<std::string> readSmallFile(const std::string& path, size_t maxBytes);
Result<void> writePrivateFile(const std::string& path, std::string_view content);

}  // namespace mesh::ca
