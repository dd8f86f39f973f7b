#include "controlplane/ca/pki.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mesh::ca {
namespace {

using Bio = std::unique_ptr<BIO, OpenSslFree>;

Bio memoryBio(std::string_view data) { return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))); }

std::string drain(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::chrono::system_clock::time_point toTimePoint(const ASN1_TIME* t) {
  struct tm parts {};
  if (!t || ASN1_TIME_to_tm(t, &parts) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

}  // namespace

std::string openSslError() {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  if (last == 0) return "unknown OpenSSL error";
  char text[256] = {};
  ERR_error_string_n(last, text, sizeof(text));
  return text;
}

Result<PKey> generateKey(KeyAlgorithm algorithm) {
  EVP_PKEY* key = algorithm == KeyAlgorithm::EcdsaP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  if (!key) return fail(ErrorCode::Internal, "generating a key: " + openSslError());
  return PKey(key);
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(ErrorCode::Internal, "encoding a private key: " + openSslError());
  return drain(bio.get());
}

Result<std::string> certificatePem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return fail(ErrorCode::Internal, "encoding a certificate: " + openSslError());
  return drain(bio.get());
}

Result<PKey> parsePrivateKeyPem(std::string_view pem) {
  Bio bio = memoryBio(pem);
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) {
    ERR_clear_error();  // the error text may quote nothing of the key, but say nothing more than needed
    return fail(ErrorCode::InvalidInput, "not a PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1)");
  }
  return PKey(key);
}

Result<std::vector<Cert>> parseCertificatesPem(std::string_view pem) {
  Bio bio = memoryBio(pem);
  std::vector<Cert> certs;
  while (bio) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    certs.emplace_back(cert);
  }
  // The loop ends on "no start line" at the end of the input; anything else is a bad block.
  unsigned long e = ERR_peek_last_error();
  bool cleanEnd = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
  if (e != 0 && !cleanEnd) return fail(ErrorCode::InvalidInput, "bad PEM certificate: " + openSslError());
  ERR_clear_error();
  if (certs.empty()) return fail(ErrorCode::InvalidInput, "no PEM certificate found");
  return certs;
}

Result<Cert> parseCertificatePem(std::string_view pem) {
  auto certs = parseCertificatesPem(pem);
  if (!certs) return Failure(certs.error());
  if (certs->size() != 1) return fail(ErrorCode::InvalidInput, "expected one certificate, found several");
  return std::move(certs->front());
}

Cert copyCert(X509* cert) {
  X509_up_ref(cert);
  return Cert(cert);
}

SubjectAltNames subjectAltNames(const GENERAL_NAMES* names) {
  SubjectAltNames out;
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) {
      ++out.others;
      continue;
    }
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                          static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return out;
}

SubjectAltNames certificateSans(X509* cert, int& extensions) {
  extensions = 0;
  for (int i = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1); i >= 0;
       i = X509_get_ext_by_NID(cert, NID_subject_alt_name, i))
    ++extensions;
  if (extensions != 1) return {};
  GeneralNames names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  return subjectAltNames(names.get());
}

std::chrono::system_clock::time_point notAfter(const X509* cert) { return toTimePoint(X509_get0_notAfter(cert)); }
std::chrono::system_clock::time_point notBefore(const X509* cert) { return toTimePoint(X509_get0_notBefore(cert)); }

bool isCaCertificate(X509* cert) { return X509_check_ca(cert) != 0; }

Result<std::string> randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return fail(ErrorCode::Internal, "random bytes: " + openSslError());
  std::string hex;
  hex.reserve(bytes * 2);
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  OPENSSL_cleanse(raw.data(), raw.size());
  return hex;
}

Result<std::string> readSmallFile(const std::string& path, size_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, fmt::format("{}: cannot read the file", path));
  std::string body(maxBytes + 1, '\0');
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<size_t>(in.gcount()));
  if (body.size() > maxBytes)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: larger than {} bytes", path, maxBytes));
  return body;
}

Result<void> writePrivateFile(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::Io, fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorCode::Io, fmt::format("{}: cannot write: {}", tmp, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::Io, fmt::format("{}: cannot write: {}", path, std::strerror(err)));
  }
  return {};
}

}  // namespace mesh::ca
