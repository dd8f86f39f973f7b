#include "controlplane/xds/downstream_tls.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"

namespace mesh::xds {
namespace {

using envoy::extensions::transport_sockets::tls::v3::CommonTlsContext;
using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;
using envoy::extensions::transport_sockets::tls::v3::SdsSecretConfig;
using envoy::extensions::transport_sockets::tls::v3::TlsParameters;
using model::text;

// Istio's default cipher suites for mesh mTLS (pkg/config/security SupportedCiphers).
constexpr std::string_view kMeshCiphers[] = {
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",   "AES256-GCM-SHA384",           "AES128-GCM-SHA256"};

void adsSecret(SdsSecretConfig& out, std::string_view name) {
  out.set_name(std::string(name));
  out.mutable_sds_config()->mutable_ads();
  out.mutable_sds_config()->set_resource_api_version(envoy::config::core::v3::V3);
}

// The proxy's own workload certificate and the mesh root, as Istio names the SDS resources.
void meshCertificates(CommonTlsContext& common) {
  adsSecret(*common.add_tls_certificate_sds_secret_configs(), "default");
  auto* combined = common.mutable_combined_validation_context();
  combined->mutable_default_validation_context();
  adsSecret(*combined->mutable_validation_context_sds_secret_config(), "ROOTCA");
}

void setAlpn(CommonTlsContext& common, std::initializer_list<std::string_view> alpn) {
  for (std::string_view a : alpn) common.add_alpn_protocols(std::string(a));
}

TlsParameters::TlsProtocol tlsProtocol(std::string_view v) {
  if (v == "TLSV1_0") return TlsParameters::TLSv1_0;
  if (v == "TLSV1_1") return TlsParameters::TLSv1_1;
  if (v == "TLSV1_2") return TlsParameters::TLSv1_2;
  if (v == "TLSV1_3") return TlsParameters::TLSv1_3;
  return TlsParameters::TLS_AUTO;
}

// Istio's applyServerTLSSettings for SIMPLE/MUTUAL/OPTIONAL_MUTUAL servers.
void applyServerTlsSettings(CommonTlsContext& common, const core::Node* tls) {
  auto minV = tlsProtocol(text(tls, "minProtocolVersion"));
  auto maxV = tlsProtocol(text(tls, "maxProtocolVersion"));
  auto ciphers = model::stringList(tls->get("cipherSuites"));
  if (minV != TlsParameters::TLS_AUTO) common.mutable_tls_params()->set_tls_minimum_protocol_version(minV);
  if (maxV != TlsParameters::TLS_AUTO) common.mutable_tls_params()->set_tls_maximum_protocol_version(maxV);
  for (const std::string& c : ciphers) common.mutable_tls_params()->add_cipher_suites(c);
}

void exactSans(envoy::extensions::transport_sockets::tls::v3::CertificateValidationContext& vc,
               const std::vector<std::string>& sans) {
  for (const std::string& san : sans) {
    auto* m = vc.add_match_typed_subject_alt_names();
    m->set_san_type(envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::DNS);
    m->mutable_matcher()->set_exact(san);
  }
}

}  // namespace

std::string credentialResourceName(std::string_view credentialName) {
  if (credentialName.starts_with("builtin://")) return "default";
  if (credentialName.find("://") != std::string_view::npos) return std::string(credentialName);
  return fmt::format("kubernetes://{}", credentialName);
}

DownstreamTlsContext meshMtlsContext(bool http) {
  DownstreamTlsContext ctx;
  auto* common = ctx.mutable_common_tls_context();
  if (http)
    setAlpn(*common, {"h2", "http/1.1"});
  else
    setAlpn(*common, {"istio-peer-exchange", "h2", "http/1.1"});
  meshCertificates(*common);
  auto* params = common->mutable_tls_params();
  params->set_tls_minimum_protocol_version(TlsParameters::TLSv1_2);
  params->set_tls_maximum_protocol_version(TlsParameters::TLSv1_3);
  for (std::string_view c : kMeshCiphers) params->add_cipher_suites(std::string(c));
  ctx.mutable_require_client_certificate()->set_value(true);
  return ctx;
}

DownstreamTlsContext gatewayServerTlsContext(const core::Node* tls, bool tcpServer) {
  DownstreamTlsContext ctx;
  auto* common = ctx.mutable_common_tls_context();
  std::string_view mode = text(tls, "mode");
  if (mode.empty()) mode = "SIMPLE";
  bool istioMutual = mode == "ISTIO_MUTUAL";
  if (tcpServer && istioMutual)
    setAlpn(*common, {"istio-peer-exchange", "h2", "http/1.1"});
  else
    setAlpn(*common, {"h2", "http/1.1"});
  bool requireClient = mode == "MUTUAL" || istioMutual;
  bool validateClient = requireClient || mode == "OPTIONAL_MUTUAL";
  ctx.mutable_require_client_certificate()->set_value(requireClient);
  auto sans = model::stringList(tls ? tls->get("subjectAltNames") : nullptr);
  std::string_view credential = text(tls, "credentialName");
  if (istioMutual) {
    meshCertificates(*common);
    exactSans(*common->mutable_combined_validation_context()->mutable_default_validation_context(), sans);
  } else if (!credential.empty()) {
    // The certificate (and for client validation its "-cacert" companion) come from meshd's
    // SDS on the ADS stream, read from the Kubernetes Secret named by credentialName.
    std::string resource = credentialResourceName(credential);
    adsSecret(*common->add_tls_certificate_sds_secret_configs(), resource);
    if (validateClient) {
      auto* combined = common->mutable_combined_validation_context();
      exactSans(*combined->mutable_default_validation_context(), sans);
      adsSecret(*combined->mutable_validation_context_sds_secret_config(), resource + "-cacert");
    } else if (!sans.empty()) {
      exactSans(*common->mutable_validation_context(), sans);
    }
  } else {
    // Files mounted into the gateway pod. Istio hands these to its node agent's SDS; Envoy
    // reads them directly here.
    auto* cert = common->add_tls_certificates();
    if (auto f = text(tls, "serverCertificate"); !f.empty())
      cert->mutable_certificate_chain()->set_filename(std::string(f));
    if (auto f = text(tls, "privateKey"); !f.empty()) cert->mutable_private_key()->set_filename(std::string(f));
    std::string_view ca = text(tls, "caCertificates");
    if (validateClient || !sans.empty()) {
      auto* vc = common->mutable_validation_context();
      if (!ca.empty()) vc->mutable_trusted_ca()->set_filename(std::string(ca));
      exactSans(*vc, sans);
    }
  }
  if (!istioMutual && tls) applyServerTlsSettings(*common, tls);
  return ctx;
}

}  // namespace mesh::xds
