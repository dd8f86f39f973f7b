// AdsSecretSync: the ConfigConsumer between meshproxy's xDS client and its data plane that
// copies the Secrets fetched over ADS (XdsSnapshot::secrets: gateway credentials such as
// "kubernetes://NAME") into the data plane's SecretStore once the data plane accepted the
// snapshot, and erases those no longer held. TLS contexts built before a write rebuild when
// the store's version moves. Called on the xDS client's thread only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "proxy/dataplane/secret_store.h"
#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy::security {

// tls_certificate → chain and key; validation_context → trusted CA (inline PEM only).
dataplane::TlsSecret tlsSecretOf(const envoy::extensions::transport_sockets::tls::v3::Secret& secret);

class AdsSecretSync : public ConfigConsumer {
 public:
  AdsSecretSync(ConfigConsumer& next, std::shared_ptr<dataplane::SecretStore> store);
  Result<void> apply(std::shared_ptr<const XdsSnapshot> candidate) override;

 private:
  ConfigConsumer& next_;
  std::shared_ptr<dataplane::SecretStore> store_;
  // name → a hash of the Secret written under it (not the bytes: they hold a private key)
  std::map<std::string, size_t, std::less<>> written_;
};

}  // namespace mesh::proxy::security
