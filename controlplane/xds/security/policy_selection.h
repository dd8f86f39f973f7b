// Which security.istio.io policies (PeerAuthentication, RequestAuthentication,
// AuthorizationPolicy) apply to one proxy, and Istio's "oldest wins" order among them. Shared by
// the security filter builders; pure functions of the proxy view, any thread.
#pragma once

#include <string_view>
#include <vector>

#include "controlplane/xds/generator.h"

namespace mesh::xds::security {

inline constexpr std::string_view kSecurityGroup = "security.istio.io";

// Root-namespace and own-namespace policies of `kind` whose selector matches the proxy
// (ConfigSnapshot::policiesFor), minus policies bound by targetRef(s): those apply only to the
// Kubernetes Gateway they name (the proxy's gateway.networking.k8s.io/gateway-name label), as
// Istio binds them; a Service or waypoint target never selects a sidecar.
std::vector<const core::Resource*> workloadPolicies(const ProxyView& view, std::string_view kind);

// Istio keeps the oldest policy when several compete at one level. Objects carrying
// metadata.creationTimestamp compare by it (RFC 3339 UTC text sorts chronologically) and come
// before objects without one (files in local mode); ties and the rest go by namespace, then
// name, so the choice is stable across restarts.
bool olderThan(const core::Resource& a, const core::Resource& b);

}  // namespace mesh::xds::security
