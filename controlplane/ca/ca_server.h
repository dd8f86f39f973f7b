// meshd's CA port (Istio's 15012): the IstioCertificateService served over TLS with a serving
// certificate the CA issues itself, client certificates optional but verified against the root
// (mTLS renewal). Also the shared bearer token file. Started and stopped by meshd's main.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/ca/ca_service.h"
#include "controlplane/ca/certificate_authority.h"
#include "core/result.h"

namespace mesh::ca {

struct CaServerOptions {
  std::string address = "127.0.0.1:15012";
  // SANs of the serving certificate; servingDnsNames() gives Istio's set.
  std::vector<std::string> dnsNames = {"localhost"};
  std::vector<std::string> ipAddresses = {"127.0.0.1", "::1"};
  // The serving certificate is issued at start; a restart issues a new one.
  std::chrono::seconds servingCertValidity = std::chrono::hours(24 * 365);
  // A CreateCertificate request is a CSR (at most 16 KiB) and a little metadata.
  int maxRequestBytes = 64 * 1024;
};

// meshd's host name, localhost, and istiod's service name, which Istio's agents dial and verify.
std::vector<std::string> servingDnsNames(std::string_view hostName);

class CaServer {
 public:
  // `ca` must outlive the server. `token` may be empty (no bearer auth: renewals only).
  static Result<std::unique_ptr<CaServer>> start(const CertificateAuthority& ca, std::string_view token,
                                                 const CaServerOptions& options);
  ~CaServer();
  CaServer(const CaServer&) = delete;
  CaServer& operator=(const CaServer&) = delete;

  int port() const { return port_; }
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(1));

 private:
  CaServer(const CertificateAuthority& ca, std::string_view token) : service_(ca, token) {}

  CaService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// The token callers send as `authorization: Bearer TOKEN`. An existing file is read (at most
// 4 KiB, surrounding white space dropped, must not be empty); a missing one is created 0600
// with 32 random bytes in hex. The token is never logged.
Result<std::string> loadOrCreateToken(const std::string& path);

}  // namespace mesh::ca
