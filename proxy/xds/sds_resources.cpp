#include "proxy/xds/sds_resources.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace mesh::proxy {
namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;

constexpr std::string_view kUpstreamTls = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
constexpr std::string_view kDownstreamTls =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
constexpr size_t kMaxPemBytes = 1 << 20;

void addAdsName(const tls::SdsSecretConfig& config, std::set<std::string>& out) {
  if (config.name().empty() || isAgentSecretName(config.name())) return;
  if (!config.has_sds_config() || !config.sds_config().has_ads()) return;
  out.insert(config.name());
}

void collect(const tls::CommonTlsContext& common, std::set<std::string>& out) {
  for (const auto& c : common.tls_certificate_sds_secret_configs()) addAdsName(c, out);
  if (common.has_validation_context_sds_secret_config()) addAdsName(common.validation_context_sds_secret_config(), out);
  if (common.has_combined_validation_context() &&
      common.combined_validation_context().has_validation_context_sds_secret_config())
    addAdsName(common.combined_validation_context().validation_context_sds_secret_config(), out);
}

void collect(const envoy::config::core::v3::TransportSocket& socket, std::set<std::string>& out) {
  if (!socket.has_typed_config()) return;
  const auto& any = socket.typed_config();
  if (any.type_url() == kUpstreamTls) {
    tls::UpstreamTlsContext ctx;
    if (ctx.ParseFromString(any.value())) collect(ctx.common_tls_context(), out);
  } else if (any.type_url() == kDownstreamTls) {
    tls::DownstreamTlsContext ctx;
    if (ctx.ParseFromString(any.value())) collect(ctx.common_tls_context(), out);
  }
}

Result<void> checkInline(const envoy::config::core::v3::DataSource& source, std::string_view secret,
                         std::string_view field) {
  const std::string* data = nullptr;
  if (source.has_inline_bytes()) data = &source.inline_bytes();
  else if (source.has_inline_string()) data = &source.inline_string();
  if (!data || data->empty())
    return fail(ErrorCode::InvalidInput, fmt::format("secret {:?}: {} must be inline PEM", secret, field));
  if (data->size() > kMaxPemBytes)
    return fail(ErrorCode::InvalidInput, fmt::format("secret {:?}: {} is over {} bytes", secret, field, kMaxPemBytes));
  return {};
}

}  // namespace

bool isAgentSecretName(std::string_view name) { return name == "default" || name == "ROOTCA"; }

std::vector<std::string> adsSecretNames(const envoy::config::cluster::v3::Cluster& cluster) {
  std::set<std::string> names;
  if (cluster.has_transport_socket()) collect(cluster.transport_socket(), names);
  for (const auto& m : cluster.transport_socket_matches())
    if (m.has_transport_socket()) collect(m.transport_socket(), names);
  return {names.begin(), names.end()};
}

std::vector<std::string> adsSecretNames(const envoy::config::listener::v3::Listener& listener) {
  std::set<std::string> names;
  for (const auto& chain : listener.filter_chains())
    if (chain.has_transport_socket()) collect(chain.transport_socket(), names);
  if (listener.has_default_filter_chain() && listener.default_filter_chain().has_transport_socket())
    collect(listener.default_filter_chain().transport_socket(), names);
  return {names.begin(), names.end()};
}

Result<void> validateSecret(const tls::Secret& secret) {
  const std::string& name = secret.name();
  if (name.empty()) return fail(ErrorCode::InvalidInput, "secret has no name");
  if (secret.has_tls_certificate()) {
    const auto& cert = secret.tls_certificate();
    if (auto r = checkInline(cert.certificate_chain(), name, "tls_certificate.certificate_chain"); !r) return r;
    if (auto r = checkInline(cert.private_key(), name, "tls_certificate.private_key"); !r) return r;
    return {};
  }
  if (secret.has_validation_context()) {
    return checkInline(secret.validation_context().trusted_ca(), name, "validation_context.trusted_ca");
  }
  return fail(ErrorCode::InvalidInput,
              fmt::format("secret {:?}: only tls_certificate and validation_context secrets are supported", name));
}

void redactSecret(tls::Secret& secret) {
  auto redact = [](envoy::config::core::v3::DataSource& source) {
    if (source.specifier_case() != envoy::config::core::v3::DataSource::kFilename &&
        source.specifier_case() != envoy::config::core::v3::DataSource::SPECIFIER_NOT_SET)
      source.set_inline_string("[redacted]");
  };
  if (secret.has_tls_certificate()) {
    auto* cert = secret.mutable_tls_certificate();
    if (cert->has_private_key()) redact(*cert->mutable_private_key());
    if (cert->has_password()) redact(*cert->mutable_password());
  }
  if (secret.has_generic_secret() && secret.generic_secret().has_secret())
    redact(*secret.mutable_generic_secret()->mutable_secret());
  if (secret.has_session_ticket_keys())
    for (auto& key : *secret.mutable_session_ticket_keys()->mutable_keys()) redact(key);
}

}  // namespace mesh::proxy
