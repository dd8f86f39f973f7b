// What the secret table shows about an X.509 certificate, read with OpenSSL from the first PEM
// certificate of a chain (Go's pem.Decode + x509.ParseCertificate). Pure function.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::cli::pc {

struct CertInfo {
  std::string serialNumber;  // lowercase hex, at least 32 digits (istioctl's "%032x")
  std::time_t notBefore = 0;
  std::time_t notAfter = 0;
  bool isCA = false;
  std::string trustDomain;  // host of the spiffe:// URI SAN, if any
};

std::optional<CertInfo> parseFirstCertificate(std::string_view pem);

// time.RFC3339 in UTC: "2033-05-02T03:41:33Z".
std::string rfc3339(std::time_t t);

}  // namespace mesh::cli::pc
