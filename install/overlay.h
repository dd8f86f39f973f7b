// Merging one IstioOperator document over another, as istioctl layers the default profile, the
// chosen profile, each -f file and the --set flags. istioctl's strategic merge, on the subset
// meshctl reads: maps merge key by key; the gateway lists (components.ingressGateways,
// egressGateways) and meshConfig.extensionProviders merge item by item on `name` (an overlay
// that names istio-ingressgateway changes that gateway and keeps the others), as do
// meshConfig.configSources on `address` and meshConfig.certificates on `secretName`; every
// other list replaces what was there; null removes a key. Pure; any thread.
#pragma once

#include <nlohmann/json.hpp>

namespace mesh::install {

// `base` and `overlay` are whole IstioOperator documents (apiVersion, kind, metadata, spec).
void mergeOverlay(nlohmann::json& base, const nlohmann::json& overlay);

}  // namespace mesh::install
