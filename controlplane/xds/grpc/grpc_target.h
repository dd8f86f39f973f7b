// Proxyless gRPC names its listeners and route configurations by the dial target's
// "host:port" (xds:///payments-api.payments.svc.cluster.local:8080). This resolves such a name
// to the service and port a client in the proxy's namespace means. Stateless.
#pragma once

#include <optional>
#include <string_view>

#include "controlplane/xds/generator.h"

namespace mesh::xds {

struct GrpcTarget {
  const model::Service* service = nullptr;
  const model::ServicePort* port = nullptr;
};

// "host:port"; a short host ("payments-api") is taken as a service in the proxy's namespace.
std::optional<GrpcTarget> resolveGrpcTarget(const ProxyView& view, std::string_view name);

// Istio's listener names for proxyless gRPC servers; meshd does not serve them yet.
inline constexpr std::string_view kGrpcInboundListenerPrefix = "xds.istio.io/grpc/lds/inbound/";

}  // namespace mesh::xds
