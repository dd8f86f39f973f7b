// Kubernetes Gateway API → Istio config, as istiod converts it internally
// (pilot/pkg/config/kube/gateway): every Gateway of an Istio class becomes a
// networking.istio.io/v1 Gateway, every HTTPRoute/GRPCRoute/TCPRoute/TLSRoute one VirtualService
// per parent it attaches to. ConfigSnapshot::build calls it on the validated config and admits
// the output like user-written objects. Pure and deterministic; any thread.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"
#include "core/resource.h"

namespace mesh::model::gateway_api {

struct Conversion {
  // Generated Istio objects in a fixed order (Gateways, then VirtualServices of HTTPRoutes,
  // GRPCRoutes, TCPRoutes and TLSRoutes, each by source namespace and name). Each has
  // its own Tree named "<source file> (generated from HTTPRoute ns/name)" whose nodes carry the
  // marks of the Gateway API fields they came from, and an internal.istio.io/parents annotation.
  std::vector<core::Resource> resources;
  // Warnings on the Gateway API objects: backends dropped, listeners skipped, routes that attach
  // to nothing.
  core::Diagnostics diagnostics;
};

Conversion convertGatewayApi(std::span<const core::Resource> resources, std::string_view domain);

// Validates the generated objects as ConfigSnapshot validates user config: appends the valid ones
// to `kept`; the errors of the rejected ones and the conversion's warnings go to `skipped`.
void admitConverted(Conversion converted, std::vector<core::Resource>& kept, core::Diagnostics& skipped);

}  // namespace mesh::model::gateway_api
