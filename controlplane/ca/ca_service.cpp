#include "controlplane/ca/ca_service.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <grpc/grpc_security_constants.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>

#include "core/log.h"

namespace mesh::ca {
namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;

std::array<unsigned char, 32> digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool startsWithBearer(std::string_view v) {
  constexpr std::string_view kBearer = "bearer ";
  if (v.size() < kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i)
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(v[i]))) != kBearer[i]) return false;
  return true;
}

std::string_view view(const grpc::string_ref& r) { return {r.data(), r.size()}; }

grpc::Status denied(grpc::ServerContext& context, grpc::StatusCode code, std::string message) {
  // The peer address and the reason only: never the token or the request's key material.
  mesh::log::warn("ca", "refused a certificate to {}: {}", context.peer(), message);
  return {code, std::move(message)};
}

}  // namespace

CaService::CaService(const CertificateAuthority& ca, std::string_view token)
    : ca_(ca), tokenEnabled_(!token.empty()), tokenDigest_(digest(token)) {}

grpc::Status CaService::authenticate(grpc::ServerContext& context, Caller& caller) const {
  const auto& metadata = context.client_metadata();
  auto auth = metadata.find("authorization");
  if (auth != metadata.end()) {
    // A caller that sends a token is judged by the token alone, even if it also has a certificate.
    std::string_view value = view(auth->second);
    if (!startsWithBearer(value))
      return denied(context, grpc::StatusCode::UNAUTHENTICATED, "the authorization metadata is not `Bearer TOKEN`");
    if (!tokenEnabled_) return denied(context, grpc::StatusCode::UNAUTHENTICATED, "this CA takes no bearer tokens");
    auto presented = digest(trim(value.substr(7)));
    if (CRYPTO_memcmp(presented.data(), tokenDigest_.data(), presented.size()) != 0)
      return denied(context, grpc::StatusCode::UNAUTHENTICATED, "the bearer token does not match meshd's CA token");
    caller.byToken = true;
    return grpc::Status::OK;
  }
  auto authContext = context.auth_context();
  std::vector<grpc::string_ref> leaf =
      authContext ? authContext->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME) : std::vector<grpc::string_ref>{};
  if (leaf.empty())
    return denied(context, grpc::StatusCode::UNAUTHENTICATED,
                  "no credentials: send `authorization: Bearer TOKEN` metadata or present a workload certificate "
                  "issued by this CA");
  std::vector<grpc::string_ref> chain = authContext->FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
  auto id = ca_.verifyWorkloadCertificate(view(leaf.front()), chain.empty() ? std::string_view{} : view(chain.front()));
  if (!id) return denied(context, grpc::StatusCode::UNAUTHENTICATED, id.error().message);
  caller.identity = std::move(*id);
  return grpc::Status::OK;
}

grpc::Status CaService::CreateCertificate(grpc::ServerContext* context, const IstioCertificateRequest* request,
                                          IstioCertificateResponse* response) {
  Caller caller;
  if (grpc::Status s = authenticate(*context, caller); !s.ok()) return s;
  auto csr = checkCsr(request->csr(), ca_.options().trustDomain);
  if (!csr) return denied(*context, grpc::StatusCode::INVALID_ARGUMENT, csr.error().message);
  std::string requested = csr->identity.uri();
  if (!caller.byToken && !(csr->identity == caller.identity))
    return denied(*context, grpc::StatusCode::PERMISSION_DENIED,
                  fmt::format("a caller authenticated as {} may not have a certificate for {}", caller.identity.uri(),
                              requested));
  // Impersonation (an agent asking for another workload's certificate) is not offered: when the
  // metadata names an identity, it must be the requested one.
  const auto& fields = request->metadata().fields();
  if (auto it = fields.find(std::string(kImpersonatedIdentityKey)); it != fields.end()) {
    if (!it->second.has_string_value() || it->second.string_value() != requested)
      return denied(*context, grpc::StatusCode::PERMISSION_DENIED,
                    fmt::format("{} in the request metadata differs from the CSR's identity {}",
                                kImpersonatedIdentityKey, requested));
  }
  auto issued = ca_.signWorkload(*csr, std::chrono::seconds(request->validity_duration()));
  if (!issued) {
    auto code = issued.error().code == ErrorCode::InvalidInput ? grpc::StatusCode::INVALID_ARGUMENT
                                                               : grpc::StatusCode::INTERNAL;
    return denied(*context, code, issued.error().message);
  }
  for (auto& pem : issued->chainPem) response->add_cert_chain(std::move(pem));
  mesh::log::info("ca", "issued a certificate for {} to {} ({}), valid until {:%Y-%m-%dT%H:%M:%SZ}", requested,
                  context->peer(), caller.byToken ? "token" : "renewal by certificate",
                  std::chrono::floor<std::chrono::seconds>(issued->notAfter));
  return grpc::Status::OK;
}

}  // namespace mesh::ca
