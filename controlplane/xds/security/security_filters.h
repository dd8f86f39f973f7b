// Workload security as Envoy filters for a proxy's inbound side (and a gateway's listeners):
// PeerAuthentication → the mTLS mode per port; RequestAuthentication → jwt_authn;
// AuthorizationPolicy → RBAC (CUSTOM → ext_authz, AUDIT, DENY, ALLOW in Istio's order).
// Pure functions of the proxy view; the listener generator places what they return.
#pragma once

#include <cstdint>
#include <vector>

#include "controlplane/xds/generator.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::xds {

enum class MtlsMode { Disable, Permissive, Strict };

// Istio's effective PeerAuthentication mode for a workload port: workload (selector) policy
// with port-level override, else namespace, else mesh-wide (root namespace), else PERMISSIVE.
MtlsMode peerAuthenticationMode(const ProxyView& view, uint32_t port);
// The namespace's mode without workload policies (namespace, else mesh-wide, else PERMISSIVE):
// Istio's best-effort guess of a service's mode, which turns auto mTLS off for DISABLE.
MtlsMode namespaceMtlsMode(const model::ConfigSnapshot& snapshot, std::string_view ns);

// HTTP filters that go before the router on an inbound (or gateway) HTTP chain, in order.
std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> inboundHttpSecurityFilters(
    const ProxyView& view);

// Network filters that go before tcp_proxy on an inbound TCP chain, in order.
std::vector<envoy::config::listener::v3::Filter> inboundTcpSecurityFilters(const ProxyView& view);

}  // namespace mesh::xds
