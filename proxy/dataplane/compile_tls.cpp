// TLS transport sockets → TlsCommonConfig and friends: see compile_tls.h.
#include "proxy/dataplane/compile_tls.h"

#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/tls_context.h"

// match_subject_alt_names is deprecated for match_typed_subject_alt_names; Istio still sends it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace mesh::proxy::dataplane::detail {

namespace {

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
namespace corev3 = envoy::config::core::v3;

constexpr uintmax_t kMaxPemFileBytes = 1024 * 1024;

Result<std::string> readDataSource(const corev3::DataSource& ds, const std::string& where) {
  switch (ds.specifier_case()) {
    case corev3::DataSource::kInlineBytes: return ds.inline_bytes();
    case corev3::DataSource::kInlineString: return ds.inline_string();
    case corev3::DataSource::kFilename: {
      std::error_code ec;
      auto size = std::filesystem::file_size(ds.filename(), ec);
      if (ec) return invalid(where + ".filename", "cannot read " + ds.filename() + ": " + ec.message());
      if (size > kMaxPemFileBytes) return invalid(where + ".filename", ds.filename() + " is larger than 1 MiB");
      std::ifstream in(ds.filename(), std::ios::binary);
      std::string out(static_cast<size_t>(size), '\0');
      if (!in.read(out.data(), static_cast<std::streamsize>(out.size()))) {
        return invalid(where + ".filename", "cannot read " + ds.filename());
      }
      return out;
    }
    case corev3::DataSource::kEnvironmentVariable:
      return invalid(where, "environment_variable data sources are not supported");
    default: return invalid(where, "empty data source");
  }
}

int protocolVersion(tlsv3::TlsParameters::TlsProtocol p) {
  switch (p) {
    case tlsv3::TlsParameters::TLSv1_0: return TLS1_VERSION;
    case tlsv3::TlsParameters::TLSv1_1: return TLS1_1_VERSION;
    case tlsv3::TlsParameters::TLSv1_2: return TLS1_2_VERSION;
    case tlsv3::TlsParameters::TLSv1_3: return TLS1_3_VERSION;
    default: return 0;
  }
}

// BoringSSL's equal-preference groups "[A|B]" become a plain preference list for OpenSSL.
std::string cipherList(const google::protobuf::RepeatedPtrField<std::string>& suites) {
  std::string out;
  for (const auto& s : suites) {
    std::string name;
    for (char c : s) {
      if (c == '[' || c == ']') continue;
      name.push_back(c == '|' ? ':' : c);
    }
    if (name.empty()) continue;
    if (!out.empty()) out.push_back(':');
    out += name;
  }
  return out;
}

Result<void> compileValidation(const tlsv3::CertificateValidationContext& v, TlsCommonConfig& out,
                               const std::string& where) {
  out.hasValidation = true;
  if (v.has_trusted_ca()) {
    auto ca = readDataSource(v.trusted_ca(), where + ".trusted_ca");
    if (!ca) return Failure(ca.error());
    out.trustedCaPem = std::move(*ca);
  }
  if (v.verify_certificate_spki_size() > 0 || v.verify_certificate_hash_size() > 0) {
    return invalid(where, "verify_certificate_spki and verify_certificate_hash are not supported");
  }
  if (v.has_crl()) return invalid(where + ".crl", "not supported");
  if (v.has_custom_validator_config()) return invalid(where + ".custom_validator_config", "not supported");
  if (v.allow_expired_certificate()) return invalid(where + ".allow_expired_certificate", "not supported");
  out.acceptUntrusted = v.trust_chain_verification() == tlsv3::CertificateValidationContext::ACCEPT_UNTRUSTED;
  for (int i = 0; i < v.match_subject_alt_names_size(); ++i) {
    SanMatcher m;
    auto match = compileStringMatch(v.match_subject_alt_names(i),
                                    where + ".match_subject_alt_names[" + std::to_string(i) + "]");
    if (!match) return Failure(match.error());
    m.match = std::move(*match);
    out.sanMatchers.push_back(std::move(m));
  }
  for (int i = 0; i < v.match_typed_subject_alt_names_size(); ++i) {
    const auto& t = v.match_typed_subject_alt_names(i);
    std::string mw = where + ".match_typed_subject_alt_names[" + std::to_string(i) + "]";
    SanMatcher m;
    switch (t.san_type()) {
      case tlsv3::SubjectAltNameMatcher::URI: m.type = SanMatcher::Type::Uri; break;
      case tlsv3::SubjectAltNameMatcher::DNS: m.type = SanMatcher::Type::Dns; break;
      case tlsv3::SubjectAltNameMatcher::EMAIL: m.type = SanMatcher::Type::Email; break;
      case tlsv3::SubjectAltNameMatcher::IP_ADDRESS: m.type = SanMatcher::Type::Ip; break;
      default: return invalid(mw + ".san_type", "only URI, DNS, EMAIL and IP_ADDRESS are supported");
    }
    auto match = compileStringMatch(t.matcher(), mw + ".matcher");
    if (!match) return Failure(match.error());
    m.match = std::move(*match);
    out.sanMatchers.push_back(std::move(m));
  }
  return {};
}

Result<void> compileCommon(const tlsv3::CommonTlsContext& c, TlsCommonConfig& out) {
  std::string where = out.where + ".common_tls_context";
  const auto& params = c.tls_params();
  out.minVersion = protocolVersion(params.tls_minimum_protocol_version());
  out.maxVersion = protocolVersion(params.tls_maximum_protocol_version());
  out.cipherList = cipherList(params.cipher_suites());
  for (const auto& curve : params.ecdh_curves()) {
    if (!out.curves.empty()) out.curves.push_back(':');
    out.curves += curve;
  }
  for (int i = 0; i < c.tls_certificates_size(); ++i) {
    const auto& cert = c.tls_certificates(i);
    std::string cw = where + ".tls_certificates[" + std::to_string(i) + "]";
    TlsCertificateSource source;
    auto chain = readDataSource(cert.certificate_chain(), cw + ".certificate_chain");
    if (!chain) return Failure(chain.error());
    auto key = readDataSource(cert.private_key(), cw + ".private_key");
    if (!key) return Failure(key.error());
    source.chainPem = std::move(*chain);
    source.keyPem = std::move(*key);
    out.certificates.push_back(std::move(source));
  }
  for (int i = 0; i < c.tls_certificate_sds_secret_configs_size(); ++i) {
    const auto& sds = c.tls_certificate_sds_secret_configs(i);
    if (sds.name().empty()) {
      return invalid(where + ".tls_certificate_sds_secret_configs[" + std::to_string(i) + "]", "needs a name");
    }
    TlsCertificateSource source;
    source.sdsName = sds.name();
    out.certificates.push_back(std::move(source));
  }
  if (c.has_tls_certificate_provider_instance()) {
    return invalid(where + ".tls_certificate_provider_instance", "not supported; use SDS");
  }
  switch (c.validation_context_type_case()) {
    case tlsv3::CommonTlsContext::kValidationContext: {
      auto ok = compileValidation(c.validation_context(), out, where + ".validation_context");
      if (!ok) return ok;
      break;
    }
    case tlsv3::CommonTlsContext::kValidationContextSdsSecretConfig:
      out.hasValidation = true;
      out.validationSdsName = c.validation_context_sds_secret_config().name();
      if (out.validationSdsName.empty()) return invalid(where + ".validation_context_sds_secret_config", "needs a name");
      break;
    case tlsv3::CommonTlsContext::kCombinedValidationContext: {
      const auto& combined = c.combined_validation_context();
      auto ok = compileValidation(combined.default_validation_context(), out,
                                  where + ".combined_validation_context.default_validation_context");
      if (!ok) return ok;
      out.validationSdsName = combined.validation_context_sds_secret_config().name();
      if (out.validationSdsName.empty()) {
        return invalid(where + ".combined_validation_context.validation_context_sds_secret_config", "needs a name");
      }
      break;
    }
    case tlsv3::CommonTlsContext::VALIDATION_CONTEXT_TYPE_NOT_SET: break;
    default: return invalid(where, "certificate provider validation contexts are not supported; use SDS");
  }
  for (const auto& a : c.alpn_protocols()) {
    if (a.empty() || a.size() > 255) return invalid(where + ".alpn_protocols", "protocol names are 1 to 255 bytes");
    out.alpn.push_back(a);
  }
  return checkInlineTls(out);
}

// session_ticket_keys (80 bytes each), its SDS name, the two disable flags and session_timeout.
Result<void> compileResumption(const tlsv3::DownstreamTlsContext& ctx, DownstreamTlsConfig& out,
                               const std::string& where) {
  switch (ctx.session_ticket_keys_type_case()) {
    case tlsv3::DownstreamTlsContext::kSessionTicketKeys: {
      const auto& keys = ctx.session_ticket_keys().keys();
      if (keys.empty()) return invalid(where + ".session_ticket_keys.keys", "needs at least one key");
      for (int i = 0; i < keys.size(); ++i) {
        std::string kw = where + ".session_ticket_keys.keys[" + std::to_string(i) + "]";
        auto data = readDataSource(keys[i], kw);
        if (!data) return Failure(data.error());
        auto key = ticketKeyOf(*data);
        if (!key) return invalid(kw, key.error().message);  // never the key itself
        out.ticketKeys.push_back(std::move(*key));
      }
      break;
    }
    case tlsv3::DownstreamTlsContext::kSessionTicketKeysSdsSecretConfig:
      out.ticketKeysSdsName = ctx.session_ticket_keys_sds_secret_config().name();
      if (out.ticketKeysSdsName.empty()) return invalid(where + ".session_ticket_keys_sds_secret_config", "needs a name");
      break;
    case tlsv3::DownstreamTlsContext::kDisableStatelessSessionResumption:
      out.disableStatelessResumption = ctx.disable_stateless_session_resumption();
      break;
    case tlsv3::DownstreamTlsContext::SESSION_TICKET_KEYS_TYPE_NOT_SET: break;
  }
  out.disableStatefulResumption = ctx.disable_stateful_session_resumption();
  if (ctx.has_session_timeout()) {
    int64_t seconds = ctx.session_timeout().seconds();
    if (seconds < 0 || seconds > 0xffffffffLL) return invalid(where + ".session_timeout", "out of range");
    out.sessionTimeoutSeconds = static_cast<uint32_t>(seconds);  // whole seconds, as Envoy
  }
  return {};
}

}  // namespace

TransportSocketKind transportSocketKind(const corev3::TransportSocket& ts, bool downstream) {
  const std::string& url = ts.typed_config().type_url();
  if (ts.name() == "envoy.transport_sockets.tls" ||
      url.ends_with(downstream ? "tls.v3.DownstreamTlsContext" : "tls.v3.UpstreamTlsContext")) {
    return TransportSocketKind::Tls;
  }
  if (ts.name().empty() || ts.name() == "envoy.transport_sockets.raw_buffer" || url.ends_with("raw_buffer.v3.RawBuffer")) {
    return TransportSocketKind::Raw;
  }
  return TransportSocketKind::Unknown;
}

Result<std::shared_ptr<const DownstreamTlsConfig>> compileDownstreamTls(const corev3::TransportSocket& ts,
                                                                        const std::string& where) {
  tlsv3::DownstreamTlsContext ctx;
  if (!ts.typed_config().UnpackTo(&ctx)) return invalid(where + ".typed_config", "cannot decode DownstreamTlsContext");
  auto out = std::make_shared<DownstreamTlsConfig>();
  out->common.where = where;
  auto ok = compileCommon(ctx.common_tls_context(), out->common);
  if (!ok) return Failure(ok.error());
  out->requireClientCertificate = ctx.has_require_client_certificate() && ctx.require_client_certificate().value();
  auto resumption = compileResumption(ctx, *out, where);
  if (!resumption) return Failure(resumption.error());
  if (out->common.certificates.empty()) return invalid(where + ".common_tls_context", "a server needs a certificate");
  if (out->requireClientCertificate && !out->common.hasValidation) {
    return invalid(where + ".require_client_certificate", "needs a validation context to check client certificates");
  }
  return std::shared_ptr<const DownstreamTlsConfig>(std::move(out));
}

Result<std::shared_ptr<const UpstreamTlsConfig>> compileUpstreamTls(const corev3::TransportSocket& ts,
                                                                    const std::string& where) {
  tlsv3::UpstreamTlsContext ctx;
  if (!ts.typed_config().UnpackTo(&ctx)) return invalid(where + ".typed_config", "cannot decode UpstreamTlsContext");
  auto out = std::make_shared<UpstreamTlsConfig>();
  out->common.where = where;
  auto ok = compileCommon(ctx.common_tls_context(), out->common);
  if (!ok) return Failure(ok.error());
  out->sni = ctx.sni();
  if (ctx.has_max_session_keys()) out->maxSessionKeys = ctx.max_session_keys().value();
  // Same settings, same pool: connections survive config updates that do not change TLS.
  char id[32];
  std::snprintf(id, sizeof id, "tls%zx", std::hash<std::string>{}(ts.typed_config().value()));
  out->id = id;
  return std::shared_ptr<const UpstreamTlsConfig>(std::move(out));
}

}  // namespace mesh::proxy::dataplane::detail
