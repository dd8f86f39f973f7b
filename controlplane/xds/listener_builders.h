// The listener families the LDS generator assembles, one file each: sidecar outbound
// (per-service-port listeners and the virtualOutbound capture listener), sidecar inbound
// (virtualInbound) and gateway listeners. Internal to the listener generator; stateless, any
// thread.
#pragma once

#include <vector>

#include "controlplane/xds/generator.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace mesh::xds {

// Istio's buildSidecarOutboundListeners: one listener per visible service port (HTTP ports
// share "0.0.0.0_<port>", TCP and TLS ports listen on the service address), bind_to_port false,
// reached from virtualOutbound by original destination. Depends only on what proxies with the
// same outbound key share (scope, and labels when a route matches on sourceLabels); per-pod
// listeners of headless services include every endpoint, the caller drops the proxy's own.
std::vector<envoy::config::listener::v3::Listener> buildSidecarOutboundListeners(const ProxyView& view);

// "virtualOutbound" on 0.0.0.0:15001: iptables-captured outbound traffic.
envoy::config::listener::v3::Listener buildVirtualOutboundListener(const ProxyView& view);

// "virtualInbound" on 0.0.0.0:15006: iptables-captured inbound traffic, one set of chains per
// workload port following its PeerAuthentication mode, plus passthrough chains.
envoy::config::listener::v3::Listener buildVirtualInboundListener(const ProxyView& view);

// Istio's buildGatewayListeners: "0.0.0.0_<port>" per merged Gateway server port.
std::vector<envoy::config::listener::v3::Listener> buildGatewayListeners(const ProxyView& view);

}  // namespace mesh::xds
