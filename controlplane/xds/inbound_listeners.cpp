// The sidecar's "virtualInbound" listener, as Istio's buildInboundListeners lays it out: a
// blackhole chain for traffic addressed to 15006 itself, passthrough chains for ports no
// Service declares, and per workload port (Istio's ServiceTargets) the chains its
// PeerAuthentication mode calls for (Istio's filterchain_options.go):
//   STRICT     → TLS chains only, terminating mesh mTLS;
//   PERMISSIVE → mTLS chains (transport "tls", Istio ALPNs) and plaintext chains side by side;
//   DISABLE    → plaintext chains only.
// HTTP ports end in an HCM with an inline route to "inbound|<port>||", TCP ports in tcp_proxy;
// ports of unknown protocol get both, told apart by the HTTP inspector.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/model/service_targets.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/downstream_tls.h"
#include "controlplane/xds/http_connection_manager.h"
#include "controlplane/xds/listener_builders.h"
#include "controlplane/xds/listener_common.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/security/security_filters.h"

namespace mesh::xds {
namespace {

using envoy::config::listener::v3::Listener;
using envoy::config::listener::v3::ListenerFilterChainMatchPredicate;
using model::Protocol;

enum class ChainProtocol { Http, Tcp, Auto };

// Istio's ModelProtocolToListenerProtocol.
ChainProtocol chainProtocolOf(Protocol p) {
  if (model::isHttpProtocol(p)) return ChainProtocol::Http;
  if (p == Protocol::Unsupported) return ChainProtocol::Auto;
  return ChainProtocol::Tcp;
}

// One filter chain match option (Istio's FilterChainMatchOptions).
struct MatchOption {
  std::vector<std::string> alpn;
  std::string_view transport;
  bool http = false;
  bool tls = false;  // terminates mesh mTLS
};

std::vector<MatchOption> matchOptions(MtlsMode mode, ChainProtocol p) {
  const std::vector<std::string> none;
  switch (p) {
    case ChainProtocol::Http:
      if (mode == MtlsMode::Strict) return {{none, kTlsTransport, true, true}};
      if (mode == MtlsMode::Permissive)
        return {{allIstioMtlsAlpns(), kTlsTransport, true, true}, {none, kRawBufferTransport, true, false}};
      return {{none, kRawBufferTransport, true, false}};
    case ChainProtocol::Tcp:
      if (mode == MtlsMode::Strict) return {{none, kTlsTransport, false, true}};
      if (mode == MtlsMode::Permissive)
        return {{allIstioMtlsAlpns(), kTlsTransport, false, true},
                {none, kRawBufferTransport, false, false},
                {none, kTlsTransport, false, false}};  // the application's own TLS, proxied as TCP
      return {{none, kRawBufferTransport, false, false}};
    case ChainProtocol::Auto:
      if (mode == MtlsMode::Strict)
        return {{mtlsHttpAlpns(), kTlsTransport, true, true}, {none, kTlsTransport, false, true}};
      if (mode == MtlsMode::Permissive)
        return {{mtlsHttpAlpns(), kTlsTransport, true, true},
                {plaintextHttpAlpns(), kRawBufferTransport, true, false},
                {mtlsTcpAlpns(), kTlsTransport, false, true},
                {none, kRawBufferTransport, false, false},
                {none, kTlsTransport, false, false}};
      return {{plaintextHttpAlpns(), kRawBufferTransport, true, false}, {none, kRawBufferTransport, false, false}};
  }
  return {};
}

// What one set of inbound chains serves (Istio's inboundChainConfig).
struct InboundChainConfig {
  uint32_t targetPort = 0;  // 0: every port (passthrough)
  uint32_t servicePort = 0;
  Protocol protocol = Protocol::Unsupported;
  std::string cluster;
  std::string hostname;  // for the route's trace decorator
  bool passthrough = false;
};

class InboundBuilder {
 public:
  explicit InboundBuilder(const ProxyView& view)
      : view_(view), httpSecurity_(inboundHttpSecurityFilters(view)), tcpSecurity_(inboundTcpSecurityFilters(view)) {}

  Listener build() {
    std::vector<ChainSpec> chains;
    chains.push_back(blackholeChain());
    std::vector<InboundChainConfig> configs = workloadChainConfigs();
    std::set<uint32_t> workloadPorts;
    for (const InboundChainConfig& cc : configs) workloadPorts.insert(cc.targetPort);
    for (uint32_t port : passthroughPorts(workloadPorts)) {
      InboundChainConfig cc;
      cc.targetPort = port;
      cc.cluster = std::string(kInboundPassthroughCluster);
      cc.passthrough = true;
      addChains(chains, cc, peerAuthenticationMode(view_, port), ChainProtocol::Auto);
    }
    for (const InboundChainConfig& cc : configs)
      addChains(chains, cc, peerAuthenticationMode(view_, cc.targetPort), chainProtocolOf(cc.protocol));

    Listener l;
    l.set_name(std::string(kVirtualInboundListener));
    setSocketAddress(*l.mutable_address(), kWildcardAddress, kProxyInboundPort);
    l.set_traffic_direction(envoy::config::core::v3::INBOUND);
    l.set_continue_on_listener_filters_timeout(true);
    setDuration(*l.mutable_listener_filters_timeout(), 0);  // MeshConfig protocolDetectionTimeout
    *l.add_listener_filters() = originalDstFilter();
    addInspectors(l, chains);
    for (const ChainSpec& c : chains) *l.add_filter_chains() = toFilterChain(c);
    return l;
  }

 private:
  // One chain config per workload port; when two Services target the same port the first (by
  // hostname) wins, as Istio keeps the oldest. Istio's own ports are never workload ports.
  std::vector<InboundChainConfig> workloadChainConfigs() const {
    static const std::set<uint32_t> kReserved{15000, 15001, 15004, 15006, 15008, 15020, 15021, 15090};
    std::vector<InboundChainConfig> out;
    std::set<uint32_t> seen;
    for (const model::ServiceTarget& t : model::serviceTargets(view_.snapshot, view_.proxy)) {
      uint32_t port = t.endpoint->port;
      if (t.port->protocol == Protocol::Udp || kReserved.contains(port) || !seen.insert(port).second) continue;
      InboundChainConfig cc;
      cc.targetPort = port;
      cc.servicePort = t.port->port;
      cc.protocol = t.port->protocol;
      cc.cluster = inboundCluster(port);
      cc.hostname = t.service->hostname;
      out.push_back(std::move(cc));
    }
    return out;
  }

  // Istio's ForPassthrough: the workload-wide chains (port 0), plus one set per port-level
  // PeerAuthentication override on a port no Service declares.
  std::vector<uint32_t> passthroughPorts(const std::set<uint32_t>& workloadPorts) const {
    std::vector<uint32_t> out{0};
    std::set<uint32_t> levels;
    for (const core::Resource* pa :
         view_.snapshot.policiesFor("security.istio.io", "PeerAuthentication", view_.proxy)) {
      const core::Node* spec = pa->spec();
      // Port-level settings apply to workload policies only; Istio ignores selectors in the
      // root namespace.
      if (!spec || !spec->get("selector") || pa->namespace_() == view_.snapshot.options().rootNamespace) continue;
      if (const core::Node* ports = spec->get("portLevelMtls"))
        for (const auto& e : ports->entries())
          if (auto n = e.key->asInt(); n && *n > 0 && *n <= 65535) levels.insert(static_cast<uint32_t>(*n));
    }
    for (uint32_t p : levels)
      if (!workloadPorts.contains(p)) out.push_back(p);
    return out;
  }

  void addChains(std::vector<ChainSpec>& out, const InboundChainConfig& cc, MtlsMode mode, ChainProtocol p) const {
    for (const MatchOption& opt : matchOptions(mode, p)) {
      ChainSpec c;
      c.name = cc.passthrough ? std::string(opt.http ? kVirtualInboundCatchAllHttpChain : kVirtualInboundListener)
                              : listenerName(kWildcardAddress, cc.targetPort);
      if (cc.targetPort > 0) c.destinationPort = cc.targetPort;
      c.transportProtocol = std::string(opt.transport);
      c.applicationProtocols = opt.alpn;
      if (opt.tls) c.tls = meshMtlsContext(opt.http);
      if (opt.http) {
        c.filters.push_back(httpFilterFor(cc));
      } else {
        c.filters = tcpSecurity_;
        c.filters.push_back(tcpProxyToCluster(cc.cluster));
      }
      out.push_back(std::move(c));
    }
  }

  envoy::config::listener::v3::Filter httpFilterFor(const InboundChainConfig& cc) const {
    HcmOptions hcm;
    hcm.listenerClass = ListenerClass::SidecarInbound;
    hcm.statPrefix =
        cc.passthrough ? cc.cluster : fmt::format("inbound_{}", listenerName(kWildcardAddress, cc.targetPort));
    std::string trace = cc.passthrough ? "" : fmt::format("{}:{}/*", cc.hostname, cc.servicePort);
    hcm.routeConfig = inboundRouteConfig(cc.cluster, cc.servicePort, trace);
    hcm.securityFilters = httpSecurity_;
    hcm.http2 = model::isHttp2Protocol(cc.protocol);
    hcm.grpcWeb = cc.protocol == Protocol::GrpcWeb;
    return httpConnectionManagerFilter(hcm);
  }

  static ChainSpec blackholeChain() {
    ChainSpec c;
    c.name = std::string(kVirtualInboundBlackholeChain);
    c.destinationPort = kProxyInboundPort;
    c.filters.push_back(tcpProxyToCluster(kBlackHoleCluster));
    return c;
  }

  // Istio's populateListenerFilters: the TLS inspector where some chain matches on transport
  // "tls", the HTTP inspector where some chain matches on plaintext HTTP ALPNs, each disabled
  // (filter_disabled) on the ports that do not need it.
  static void addInspectors(Listener& l, const std::vector<ChainSpec>& chains) {
    struct Needs {
      bool tls = false;
      bool http = false;
    };
    std::map<uint32_t, Needs> byPort;
    for (const ChainSpec& c : chains) {
      Needs& n = byPort[c.destinationPort.value_or(0)];
      n.tls = n.tls || c.transportProtocol == kTlsTransport;
      for (const std::string& a : c.applicationProtocols) n.http = n.http || a == "http/1.1" || a == "h2c";
    }
    bool anyTls = std::ranges::any_of(byPort, [](const auto& e) { return e.second.tls; });
    bool anyHttp = std::ranges::any_of(byPort, [](const auto& e) { return e.second.http; });
    if (anyTls) {
      auto f = tlsInspectorFilter();
      std::vector<uint32_t> ports;
      auto passthrough = byPort.find(0);
      bool onByDefault = passthrough != byPort.end() && passthrough->second.tls;
      for (const auto& [port, n] : byPort)
        if (port != 0 && n.tls != onByDefault) ports.push_back(port);
      if (!ports.empty()) {
        if (onByDefault)
          *f.mutable_filter_disabled() = portsPredicate(ports);
        else
          *f.mutable_filter_disabled()->mutable_not_match() = portsPredicate(ports);
      }
      *l.add_listener_filters() = f;
    }
    if (anyHttp) {
      auto f = httpInspectorFilter();
      std::vector<uint32_t> ports;
      for (const auto& [port, n] : byPort)
        if (!n.http) ports.push_back(port);
      if (!ports.empty()) *f.mutable_filter_disabled() = portsPredicate(ports);
      *l.add_listener_filters() = f;
    }
  }

  // Matches connections to any of `ports` (each a [p, p+1) destination port range).
  static ListenerFilterChainMatchPredicate portsPredicate(const std::vector<uint32_t>& ports) {
    auto range = [](uint32_t p) {
      ListenerFilterChainMatchPredicate r;
      r.mutable_destination_port_range()->set_start(static_cast<int32_t>(p));
      r.mutable_destination_port_range()->set_end(static_cast<int32_t>(p + 1));
      return r;
    };
    if (ports.size() == 1) return range(ports.front());
    ListenerFilterChainMatchPredicate any;
    for (uint32_t p : ports) *any.mutable_or_match()->add_rules() = range(p);
    return any;
  }

  const ProxyView& view_;
  std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> httpSecurity_;
  std::vector<envoy::config::listener::v3::Filter> tcpSecurity_;
};

}  // namespace

Listener buildVirtualInboundListener(const ProxyView& view) { return InboundBuilder(view).build(); }

}  // namespace mesh::xds
