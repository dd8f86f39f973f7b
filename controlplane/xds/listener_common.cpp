#include "controlplane/xds/listener_common.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/route_action.h"
#include "controlplane/xds/tcp_routes.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace mesh::xds {
namespace {

using envoy::config::listener::v3::Filter;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::ListenerFilter;

// Istio bounds TLS handshakes on every outbound and gateway chain (slow-handshake attacks).
constexpr int64_t kTransportSocketConnectTimeout = 15LL * 1000000000;

void addCidr(envoy::config::listener::v3::FilterChainMatch& match, std::string_view cidr) {
  auto slash = cidr.find('/');
  std::string_view ip = cidr.substr(0, slash);
  uint32_t len = ip.find(':') != std::string_view::npos ? 128 : 32;
  if (slash != std::string_view::npos) {
    std::string_view bits = cidr.substr(slash + 1);
    std::from_chars(bits.data(), bits.data() + bits.size(), len);
  }
  auto* range = match.add_prefix_ranges();
  range->set_address_prefix(std::string(ip));
  range->mutable_prefix_len()->set_value(len);
}

}  // namespace

const std::vector<std::string>& plaintextHttpAlpns() {
  static const std::vector<std::string> v{"http/1.1", "h2c"};
  return v;
}
const std::vector<std::string>& mtlsHttpAlpns() {
  static const std::vector<std::string> v{"istio-http/1.0", "istio-http/1.1", "istio-h2"};
  return v;
}
const std::vector<std::string>& mtlsTcpAlpns() {
  static const std::vector<std::string> v{"istio-peer-exchange", "istio"};
  return v;
}
const std::vector<std::string>& allIstioMtlsAlpns() {
  static const std::vector<std::string> v{"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1",
                                          "istio-h2"};
  return v;
}

std::string listenerName(std::string_view bind, uint32_t port) { return fmt::format("{}_{}", bind, port); }

bool ChainSpec::matchesAll() const {
  bool anySni = sniHosts.empty() || std::ranges::find(sniHosts, "*") != sniHosts.end();
  return anySni && !destinationPort && destinationCidrs.empty() && transportProtocol.empty() &&
         applicationProtocols.empty();
}

bool ChainSpec::needsTlsInspector() const {
  bool sni = !sniHosts.empty() && std::ranges::find(sniHosts, "*") == sniHosts.end();
  return sni || transportProtocol == kTlsTransport || (tls && tls->common_tls_context().alpn_protocols_size() > 0);
}

FilterChain toFilterChain(const ChainSpec& spec) {
  FilterChain chain;
  if (!spec.name.empty()) chain.set_name(spec.name);
  if (!spec.matchesAll()) {
    auto* m = chain.mutable_filter_chain_match();
    if (spec.destinationPort) m->mutable_destination_port()->set_value(*spec.destinationPort);
    for (const std::string& cidr : spec.destinationCidrs) addCidr(*m, cidr);
    if (std::ranges::find(spec.sniHosts, "*") == spec.sniHosts.end())
      for (const std::string& h : spec.sniHosts) m->add_server_names(h);
    if (!spec.transportProtocol.empty()) m->set_transport_protocol(spec.transportProtocol);
    for (const std::string& p : spec.applicationProtocols) m->add_application_protocols(p);
  }
  for (const Filter& f : spec.filters) *chain.add_filters() = f;
  if (spec.tls) {
    auto* ts = chain.mutable_transport_socket();
    ts->set_name(std::string(filter_name::kTlsTransportSocket));
    *ts->mutable_typed_config() = pack(*spec.tls);
    setDuration(*chain.mutable_transport_socket_connect_timeout(), kTransportSocketConnectTimeout);
  }
  return chain;
}

Filter networkFilter(std::string_view name, const google::protobuf::Message& config) {
  Filter f;
  f.set_name(std::string(name));
  *f.mutable_typed_config() = pack(config);
  return f;
}

ListenerFilter listenerFilter(std::string_view name, const google::protobuf::Message& config) {
  ListenerFilter f;
  f.set_name(std::string(name));
  *f.mutable_typed_config() = pack(config);
  return f;
}

ListenerFilter originalDstFilter() {
  return listenerFilter(filter_name::kOriginalDst,
                        envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
}
ListenerFilter tlsInspectorFilter() {
  return listenerFilter(filter_name::kTlsInspector,
                        envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
}
ListenerFilter httpInspectorFilter() {
  return listenerFilter(filter_name::kHttpInspector,
                        envoy::extensions::filters::listener::http_inspector::v3::HttpInspector());
}

void setSocketAddress(envoy::config::core::v3::Address& out, std::string_view ip, uint32_t port) {
  auto* sa = out.mutable_socket_address();
  sa->set_address(std::string(ip));
  sa->set_port_value(port);
}

Filter tcpProxyToCluster(std::string_view cluster) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy;
  proxy.set_stat_prefix(std::string(cluster));
  proxy.set_cluster(std::string(cluster));
  return networkFilter(filter_name::kTcpProxy, proxy);
}

std::string outboundCatchAllCluster(const ProxyView& view) {
  const core::Resource* sidecar = view.scope.sidecar();
  const core::Node* policy = sidecar && sidecar->spec() ? sidecar->spec()->get("outboundTrafficPolicy") : nullptr;
  // The mesh-wide MeshConfig outboundTrafficPolicy is not part of the snapshot yet: ALLOW_ANY,
  // Istio's default, applies when the Sidecar says nothing.
  if (model::text(policy, "mode") == "REGISTRY_ONLY") return std::string(kBlackHoleCluster);
  if (const core::Node* egress = policy ? policy->get("egressProxy") : nullptr) {
    std::string_view host = model::text(egress, "host");
    if (!host.empty()) {
      std::string fq = resolveHost(host, sidecar->namespace_(), view.snapshot.options().domain);
      uint32_t port = model::uint32At(egress->get("port"), "number").value_or(0);
      return outboundCluster(port, model::text(egress, "subset"), fq);
    }
  }
  return std::string(kPassthroughCluster);
}

}  // namespace mesh::xds
