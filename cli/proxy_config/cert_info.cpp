#include "cli/proxy_config/cert_info.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <memory>

namespace mesh::cli::pc {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

std::optional<std::time_t> toTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return timegm(&tm);
}

std::string serialHex(X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex ? hex : "";
  OPENSSL_free(hex);
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.erase(0, 1);
  size_t nonZero = s.find_first_not_of('0');
  s = nonZero == std::string::npos ? "0" : s.substr(nonZero);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() < 32) s.insert(0, 32 - s.size(), '0');
  return negative ? "-" + s : s;
}

std::string spiffeTrustDomain(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  std::string domain;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && domain.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string_view s(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<size_t>(ASN1_STRING_length(uri)));
    if (!s.starts_with("spiffe://")) continue;
    s.remove_prefix(9);
    domain = std::string(s.substr(0, s.find('/')));
  }
  GENERAL_NAMES_free(names);
  return domain;
}

}  // namespace

std::optional<CertInfo> parseFirstCertificate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::nullopt;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return std::nullopt;
  CertInfo info;
  auto notBefore = toTime(X509_get0_notBefore(cert.get()));
  auto notAfter = toTime(X509_get0_notAfter(cert.get()));
  if (!notBefore || !notAfter) return std::nullopt;
  info.notBefore = *notBefore;
  info.notAfter = *notAfter;
  info.serialNumber = serialHex(cert.get());
  info.isCA = (X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0;
  info.trustDomain = spiffeTrustDomain(cert.get());
  return info;
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mesh::cli::pc
