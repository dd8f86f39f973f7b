#include "proxy/security/ads_secret_sync.h"

#include "core/log.h"
#include "proxy/security/workload_csr.h"
#include "proxy/xds/sds_resources.h"

namespace mesh::proxy::security {
namespace {

const std::string& inlineData(const envoy::config::core::v3::DataSource& source) {
  return source.has_inline_string() ? source.inline_string() : source.inline_bytes();
}

}  // namespace

dataplane::TlsSecret tlsSecretOf(const envoy::extensions::transport_sockets::tls::v3::Secret& secret) {
  dataplane::TlsSecret out;
  if (secret.has_tls_certificate()) {
    out.certificateChainPem = inlineData(secret.tls_certificate().certificate_chain());
    out.privateKeyPem = inlineData(secret.tls_certificate().private_key());
  }
  if (secret.has_validation_context()) out.trustedCaPem = inlineData(secret.validation_context().trusted_ca());
  if (secret.has_session_ticket_keys()) {
    for (const auto& key : secret.session_ticket_keys().keys()) out.sessionTicketKeys.push_back(inlineData(key));
  }
  return out;
}

AdsSecretSync::AdsSecretSync(ConfigConsumer& next, std::shared_ptr<dataplane::SecretStore> store)
    : next_(next), store_(std::move(store)) {}

Result<void> AdsSecretSync::apply(std::shared_ptr<const XdsSnapshot> candidate) {
  if (auto r = next_.apply(candidate); !r) return r;
  for (auto it = written_.begin(); it != written_.end();) {
    if (candidate->secrets.contains(it->first) || isAgentSecretName(it->first)) {
      ++it;
      continue;
    }
    store_->erase(it->first);
    log::info("sds", "secret {} removed", it->first);
    it = written_.erase(it);
  }
  for (const auto& [name, held] : candidate->secrets) {
    if (isAgentSecretName(name)) continue;  // the agent's own; never taken from the wire
    // A version identifies the content meshd sent, but a resend with new content under the same
    // version must still land: compare the bytes.
    std::string bytes = held.resource.SerializeAsString();
    size_t content = std::hash<std::string>{}(bytes);
    wipe(bytes);
    auto it = written_.find(name);
    if (it != written_.end() && it->second == content) continue;
    store_->set(name, tlsSecretOf(held.resource));
    written_.insert_or_assign(name, content);
    log::info("sds", "secret {} version {} applied", name, held.version);
  }
  return {};
}

}  // namespace mesh::proxy::security
