// Istio's IstioCertificateService (api/istio/security/v1alpha1/ca.proto) on meshd: who may
// have which certificate. A caller holding the bearer token meshd shares through a file may
// have any identity in the trust domain (the CSR's SAN); a caller presenting a still-valid
// workload certificate this CA issued may only renew that identity. gRPC's server threads call
// CreateCertificate concurrently; the service holds only immutable state.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "controlplane/ca/certificate_authority.h"
#include "istio/security/v1alpha1/ca.grpc.pb.h"

namespace mesh::ca {

class CaService final : public istio::v1::auth::IstioCertificateService::Service {
 public:
  // `token` is kept only as its SHA-256 digest. An empty token turns bearer auth off.
  CaService(const CertificateAuthority& ca, std::string_view token);

  grpc::Status CreateCertificate(grpc::ServerContext* context, const istio::v1::auth::IstioCertificateRequest* request,
                                 istio::v1::auth::IstioCertificateResponse* response) override;

 private:
  struct Caller {
    bool byToken = false;
    SpiffeId identity;  // for a certificate caller: the only identity it may have
  };
  grpc::Status authenticate(grpc::ServerContext& context, Caller& caller) const;

  const CertificateAuthority& ca_;
  bool tokenEnabled_ = false;
  std::array<unsigned char, 32> tokenDigest_{};
};

// The metadata key Istio's agents set when asking for another workload's certificate (ztunnel).
inline constexpr std::string_view kImpersonatedIdentityKey = "ImpersonatedIdentity";

}  // namespace mesh::ca
