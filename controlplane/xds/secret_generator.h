// SDS for gateways, as istiod serves a Gateway's credentialName: the Secret named
// "kubernetes://NAME" is the Kubernetes Secret NAME in the gateway's namespace ("kubernetes://NS/NAME"
// only for NS = that namespace; "kubernetes-gateway://NS/NAME" also where a ReferenceGrant lets
// the namespace's Gateways read it), turned into a tls_certificate (kubernetes.io/tls: tls.crt and
// tls.key; generic: cert and key); "<name>-cacert" is its CA (ca.crt or cacert, from the Secret
// "NAME-cacert" when it exists, else NAME) as a validation_context. Sidecars get none, and
// "default"/"ROOTCA" come from the proxy's own agent. istiod sends credentials only to
// authenticated proxies; meshd's ADS is plaintext, so only to gateways connected from this host
// (Proxy::localPeer). Stateless; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "controlplane/xds/generator.h"
#include "core/resource.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace mesh::xds {

class SecretGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kSecret; }
  // Only named requests are answered (Envoy never asks SDS for everything); names that are
  // unknown, unreadable by the proxy or not usable are left out, as istiod does.
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

// The TLS material of a Kubernetes Secret, data (base64) and stringData (plain, wins) merged.
struct KubeTlsMaterial {
  std::string certificate;  // PEM chain
  std::string key;          // PEM private key; never logged
  std::string ca;           // PEM trusted CAs
};
std::optional<KubeTlsMaterial> tlsMaterialOf(const core::Resource& secret);

// The SDS Secret meshd sends for `name` to `proxy`; nullopt when it has none for it.
std::optional<envoy::extensions::transport_sockets::tls::v3::Secret> buildGatewaySecret(const ProxyView& view,
                                                                                       std::string_view name);

}  // namespace mesh::xds
