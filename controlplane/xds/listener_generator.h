// LDS for Envoy proxies (sidecars and gateways), laid out as Istio's listener builder does:
// sidecars get per-service-port outbound listeners, "virtualOutbound" (15001) and
// "virtualInbound" (15006); gateways get one listener per merged Gateway server port. Outbound
// listeners are shared by every proxy with the same outbound key; inbound and gateway
// listeners are built per proxy. Pure and stateless; any thread may call generate().
#pragma once

#include "controlplane/xds/generator.h"

namespace mesh::xds {

class ListenerGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kListener; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

}  // namespace mesh::xds
