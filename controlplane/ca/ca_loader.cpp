#include "controlplane/ca/ca_loader.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mesh::ca {
namespace {

constexpr size_t kMaxPemFileBytes = 1024 * 1024;

bool selfSigned(X509* cert) { return X509_check_issued(cert, cert) == X509_V_OK; }

Result<void> checkSigningCert(X509* cert, EVP_PKEY* key, std::string_view what) {
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidInput, fmt::format("{}: the private key does not belong to the certificate", what));
  }
  if (!isCaCertificate(cert) ||
      ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)))
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: the certificate is not a CA allowed to sign certificates", what));
  auto now = std::chrono::system_clock::now();
  if (notAfter(cert) <= now) return fail(ErrorCode::InvalidInput, fmt::format("{}: the certificate has expired", what));
  if (notBefore(cert) > now)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: the certificate is not valid yet", what));
  return {};
}

Result<void> checkChain(X509* cert, const std::vector<Cert>& chain) {
  std::unique_ptr<X509_STORE, OpenSslFree> store(X509_STORE_new());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  if (!store || !untrusted || X509_STORE_add_cert(store.get(), chain.back().get()) != 1) {
    sk_X509_free(untrusted);
    return fail(ErrorCode::Internal, "certificate store: " + openSslError());
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  std::unique_ptr<X509_STORE_CTX, OpenSslFree> ctx(X509_STORE_CTX_new());
  bool ok =
      ctx && X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted) == 1 && X509_verify_cert(ctx.get()) == 1;
  int code = ctx ? X509_STORE_CTX_get_error(ctx.get()) : X509_V_ERR_UNSPECIFIED;
  ctx.reset();
  sk_X509_free(untrusted);
  ERR_clear_error();
  if (!ok)
    return fail(ErrorCode::InvalidInput, fmt::format("--ca-cert does not chain to the root in --ca-chain: {}",
                                                     X509_verify_cert_error_string(code)));
  return {};
}

Result<std::vector<Cert>> readCerts(const std::string& flag, const std::string& path) {
  auto text = readSmallFile(path, kMaxPemFileBytes);
  if (!text) return fail(text.error().code, fmt::format("{} {}", flag, text.error().message));
  auto certs = parseCertificatesPem(*text);
  if (!certs) return fail(ErrorCode::InvalidInput, fmt::format("{} {}: {}", flag, path, certs.error().message));
  return certs;
}

Result<PKey> readKey(const std::string& flag, const std::string& path) {
  auto text = readSmallFile(path, kMaxPemFileBytes);
  if (!text) return fail(text.error().code, fmt::format("{} {}", flag, text.error().message));
  auto key = parsePrivateKeyPem(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) return fail(ErrorCode::InvalidInput, fmt::format("{} {}: {}", flag, path, key.error().message));
  return key;
}

}  // namespace

Result<std::unique_ptr<CertificateAuthority>> loadPluggedCa(const PluggedCaFiles& files, const CaOptions& options) {
  if (files.cert.empty() || files.key.empty())
    return fail(ErrorCode::Usage, "a plugged-in CA needs both --ca-cert and --ca-key");
  auto certs = readCerts("--ca-cert", files.cert);
  if (!certs) return Failure(certs.error());
  auto key = readKey("--ca-key", files.key);
  if (!key) return Failure(key.error());
  Cert signing = std::move(certs->front());
  // Certificates after the first in --ca-cert, then --ca-chain, form the chain to the root.
  std::vector<Cert> chain;
  for (size_t i = 1; i < certs->size(); ++i) chain.push_back(std::move((*certs)[i]));
  if (!files.chain.empty()) {
    auto more = readCerts("--ca-chain", files.chain);
    if (!more) return Failure(more.error());
    for (auto& c : *more) chain.push_back(std::move(c));
  }
  // Istio's cert-chain.pem starts with ca-cert.pem itself.
  while (!chain.empty() && X509_cmp(chain.front().get(), signing.get()) == 0) chain.erase(chain.begin());
  if (auto ok = checkSigningCert(signing.get(), key->get(), "--ca-cert"); !ok) return Failure(ok.error());
  if (chain.empty()) {
    if (!selfSigned(signing.get()))
      return fail(ErrorCode::InvalidInput, "--ca-cert is an intermediate, but no chain to its root was given",
                  "pass the certificates above it, root last, with --ca-chain");
  } else {
    if (!selfSigned(chain.back().get()))
      return fail(ErrorCode::InvalidInput, "--ca-chain must end with the self-signed root certificate");
    if (auto ok = checkChain(signing.get(), chain); !ok) return Failure(ok.error());
  }
  return std::make_unique<CertificateAuthority>(std::move(*key), std::move(signing), std::move(chain), options);
}

Result<std::unique_ptr<CertificateAuthority>> createEphemeralCa(const CaOptions& options, KeyAlgorithm algorithm) {
  auto key = generateKey(algorithm);
  if (!key) return Failure(key.error());
  auto root = createSelfSignedRoot(key->get(), options.trustDomain, kSelfSignedRootValidity);
  if (!root) return Failure(root.error());
  return std::make_unique<CertificateAuthority>(std::move(*key), std::move(*root), std::vector<Cert>{}, options);
}

Result<std::unique_ptr<CertificateAuthority>> loadOrCreateSelfSignedCa(const std::string& dir, const CaOptions& options,
                                                                       KeyAlgorithm algorithm) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::Io, fmt::format("--ca-dir {}: cannot create: {}", dir, ec.message()));
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  std::string certPath = (fs::path(dir) / "ca-cert.pem").string();
  std::string keyPath = (fs::path(dir) / "ca-key.pem").string();
  bool haveCert = fs::exists(certPath, ec);
  bool haveKey = fs::exists(keyPath, ec);

  if (haveCert && haveKey) {
    struct stat st {};
    if (::stat(keyPath.c_str(), &st) != 0)
      return fail(ErrorCode::Io, fmt::format("{}: {}", keyPath, std::strerror(errno)));
    if (st.st_mode & (S_IRWXG | S_IRWXO))
      return fail(ErrorCode::InvalidInput, fmt::format("{}: the CA key is readable by other users", keyPath),
                  fmt::format("chmod 600 {}", keyPath));
    auto certs = readCerts("--ca-dir", certPath);
    if (!certs) return Failure(certs.error());
    auto key = readKey("--ca-dir", keyPath);
    if (!key) return Failure(key.error());
    Cert root = std::move(certs->front());
    if (certs->size() != 1 || !selfSigned(root.get()))
      return fail(ErrorCode::InvalidInput, fmt::format("{}: not a single self-signed root certificate", certPath));
    if (auto ok = checkSigningCert(root.get(), key->get(), certPath); !ok) {
      Error e = ok.error();
      e.hint = fmt::format(
          "move {} and {} away to have meshd create a new root (every workload must then "
          "get new certificates)",
          certPath, keyPath);
      return Failure(e);
    }
    return std::make_unique<CertificateAuthority>(std::move(*key), std::move(root), std::vector<Cert>{}, options);
  }
  if (haveCert || haveKey)
    return fail(ErrorCode::Conflict,
                fmt::format("--ca-dir {}: found {} without {}", dir, haveCert ? "ca-cert.pem" : "ca-key.pem",
                            haveCert ? "ca-key.pem" : "ca-cert.pem"),
                "restore the missing file, or remove both to have meshd create a new root");

  auto key = generateKey(algorithm);
  if (!key) return Failure(key.error());
  auto root = createSelfSignedRoot(key->get(), options.trustDomain, kSelfSignedRootValidity);
  if (!root) return Failure(root.error());
  auto keyPem = privateKeyPem(key->get());
  if (!keyPem) return Failure(keyPem.error());
  auto certPem = certificatePem(root->get());
  if (!certPem) return Failure(certPem.error());
  // The key first: a crash between the two writes leaves a key without a certificate, which
  // the next start reports instead of silently making a second root.
  auto wroteKey = writePrivateFile(keyPath, *keyPem);
  OPENSSL_cleanse(keyPem->data(), keyPem->size());
  if (!wroteKey) return Failure(wroteKey.error());
  if (auto ok = writePrivateFile(certPath, *certPem); !ok) return Failure(ok.error());
  return std::make_unique<CertificateAuthority>(std::move(*key), std::move(*root), std::vector<Cert>{}, options);
}

}  // namespace mesh::ca
