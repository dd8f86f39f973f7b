// VirtualService `tcp` and `tls` routes as Envoy tcp_proxy filters, shared by sidecar outbound
// listeners and gateway listeners: Istio's static match evaluation (port, sourceLabels,
// sourceNamespace, gateways), weighted clusters (destination naming is route_action.h's, shared
// with RDS), and the DestinationRule TCP settings tcp_proxy carries (idle timeout, maximum
// connection duration, source-IP hashing). Stateless; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/xds/generator.h"
#include "core/resource.h"
#include "envoy/config/listener/v3/listener_components.pb.h"

namespace mesh::xds {

// Whether one `match` entry of a tcp/tls route applies to this proxy on `port` for `gateway`
// ("mesh" for sidecars, "ns/name" for gateways). Runtime predicates (SNI, destination subnets)
// are left to Envoy. A null match always applies.
bool l4MatchApplies(const ProxyView& view, const core::Resource& vs, const core::Node* match, uint32_t port,
                    std::string_view gateway);

// tcp_proxy for a route list (`route:` of a tcp or tls block): one cluster, or weighted clusters
// with stat prefix "<vs name>.<vs namespace>". nullopt when the list is empty.
std::optional<envoy::config::listener::v3::Filter> tcpProxyForRoutes(const ProxyView& view, const core::Resource& vs,
                                                                     const core::Node* routes, uint32_t listenerPort);

// tcp_proxy to one outbound cluster of `svc` (or any cluster when svc is null), with the
// DestinationRule's TCP settings for that host.
envoy::config::listener::v3::Filter tcpProxyToService(const ProxyView& view, std::string_view cluster,
                                                      const model::Service* svc, std::string_view subset);

}  // namespace mesh::xds
