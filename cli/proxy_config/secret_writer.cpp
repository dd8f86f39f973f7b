#include "cli/proxy_config/secret_writer.h"

#include <fmt/format.h>

#include "cli/proxy_config/cert_info.h"
#include "cli/proxy_config/tabwriter.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace mesh::cli::pc {

namespace tls = envoy::extensions::transport_sockets::tls::v3;
namespace gp = google::protobuf;

namespace {

SecretItem build(const std::string& name, const std::string& state, const std::string& data, std::time_t now) {
  SecretItem item;
  item.name = name;
  item.state = state;
  if (data.empty()) return item;
  std::optional<CertInfo> cert = parseFirstCertificate(data);
  if (!cert) return item;  // istioctl shows an unparseable certificate as not valid, nothing else
  item.type = cert->isCA ? "CA" : "Cert Chain";
  item.serialNumber = cert->serialNumber;
  item.notAfter = rfc3339(cert->notAfter);
  item.notBefore = rfc3339(cert->notBefore);
  item.valid = now >= cert->notBefore && now <= cert->notAfter;
  item.trustDomain = cert->trustDomain;
  return item;
}

// The trust bundles of an envoy.tls.cert_validator.spiffe validator, by trust domain. The
// validator config has no generated C++ here: it is read through the TypeRegistry.
std::vector<std::pair<std::string, std::string>> spiffeTrustBundles(const tls::CertificateValidationContext& vc) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!vc.has_custom_validator_config()) return out;
  const gp::Any& typed = vc.custom_validator_config().typed_config();
  std::unique_ptr<gp::Message> config = TypeRegistry::instance().newMessage(typed.type_url());
  if (config == nullptr || !config->ParseFromString(typed.value())) return out;
  const gp::FieldDescriptor* domains = config->GetDescriptor()->FindFieldByName("trust_domains");
  if (domains == nullptr || !domains->is_repeated() || domains->message_type() == nullptr) return out;
  const gp::Reflection* r = config->GetReflection();
  for (int i = 0; i < r->FieldSize(*config, domains); ++i) {
    const gp::Message& td = r->GetRepeatedMessage(*config, domains, i);
    const gp::FieldDescriptor* nameFd = td.GetDescriptor()->FindFieldByName("name");
    const gp::FieldDescriptor* bundleFd = td.GetDescriptor()->FindFieldByName("trust_bundle");
    if (nameFd == nullptr || bundleFd == nullptr) continue;
    envoy::config::core::v3::DataSource bundle;
    bundle.ParseFromString(td.GetReflection()->GetMessage(td, bundleFd).SerializeAsString());
    out.emplace_back(td.GetReflection()->GetString(td, nameFd), bundle.inline_bytes());
  }
  return out;
}

Result<void> addSecret(const envoy::admin::v3::SecretsConfigDump_DynamicSecret& s, const std::string& state,
                       std::time_t now, std::vector<SecretItem>& out) {
  tls::Secret secret;
  if (!unpackAny(s.secret(), secret))
    return fail(ErrorCode::InvalidInput, fmt::format("failed building secret {}", s.name()));
  auto bundles = spiffeTrustBundles(secret.validation_context());
  if (!bundles.empty()) {
    for (const auto& [domain, data] : bundles) {
      SecretItem item = build(s.name(), state, data, now);
      item.trustDomain = domain;
      item.fromTrustBundle = true;
      out.push_back(std::move(item));
    }
    return {};
  }
  const std::string& chain = secret.tls_certificate().certificate_chain().inline_bytes();
  const std::string& ca = secret.validation_context().trusted_ca().inline_bytes();
  out.push_back(build(s.name(), state, !chain.empty() ? chain : ca, now));
  return {};
}

}  // namespace

Result<std::vector<SecretItem>> secretItems(const ConfigDumpView& dump, std::time_t now) {
  auto secrets = dump.secrets();
  if (!secrets) return Failure(secrets.error());
  std::vector<SecretItem> items;
  for (const auto& s : secrets->dynamic_warming_secrets())
    if (auto r = addSecret(s, "WARMING", now, items); !r) return Failure(r.error());
  for (const auto& s : secrets->dynamic_active_secrets())
    if (auto r = addSecret(s, "ACTIVE", now, items); !r) return Failure(r.error());
  return items;
}

Result<std::string> secretSummary(const ConfigDumpView& dump, bool namePrefix, std::time_t now) {
  auto secrets = dump.secrets();
  if (!secrets) return Failure(secrets.error());
  if (secrets->dynamic_active_secrets().empty() && secrets->dynamic_warming_secrets().empty())
    return std::string("No active or warming secrets found.\n");
  auto items = secretItems(dump, now);
  if (!items) return Failure(items.error());
  if (items->empty()) return std::string("No secret items to show.\n");
  bool trustDomains = false;
  for (const auto& item : *items) trustDomains = trustDomains || item.fromTrustBundle;
  TabWriter w(0, 5, 5);
  w.write("RESOURCE NAME\tTYPE\tSTATUS\tVALID CERT\tSERIAL NUMBER\tNOT AFTER\tNOT BEFORE");
  w.write(trustDomains ? "\tTRUST DOMAIN\n" : "\n");
  for (const auto& item : *items) {
    std::string name = namePrefix ? "secret/" + item.name : item.name;
    w.write(fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}", name, item.type, item.state, item.valid, item.serialNumber,
                        item.notAfter, item.notBefore));
    w.write(trustDomains ? "\t" + item.trustDomain + "\n" : "\n");
  }
  return w.flush();
}

Result<std::string> secretDump(const ConfigDumpView& dump, OutputFormat format) {
  auto secrets = dump.secrets();
  if (!secrets) return fail(ErrorCode::InvalidInput, "sidecar doesn't support secrets: " + secrets.error().message);
  return printLegacyJson(*secrets, format);
}

}  // namespace mesh::cli::pc
