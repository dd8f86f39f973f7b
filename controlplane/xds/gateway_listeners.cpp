// Gateway (router proxy) listeners, as Istio's buildGatewayListeners lays them out: one
// "0.0.0.0_<port>" listener per merged server port.
//   HTTP servers        → one HCM on RDS "http.<port>";
//   HTTPS, terminating  → per server, SNI-matched chain with the server's DownstreamTlsContext
//                         and an HCM on RDS "https.<number>.<port name>.<gateway>.<ns>";
//   TLS PASSTHROUGH     → per VirtualService `tls` match, an SNI chain with tcp_proxy;
//   TCP / TLS terminate → tcp_proxy from the first VirtualService `tcp` route that applies.
// The workload's security filters (AuthorizationPolicy on the gateway) lead every chain.
#include <map>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/downstream_tls.h"
#include "controlplane/xds/gateway_ports.h"
#include "controlplane/xds/http_connection_manager.h"
#include "controlplane/xds/listener_builders.h"
#include "controlplane/xds/listener_common.h"
#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/tcp_routes.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::listener::v3::Filter;
using envoy::config::listener::v3::Listener;

class GatewayBuilder {
 public:
  explicit GatewayBuilder(const ProxyView& view)
      : view_(view),
        domain_(view.snapshot.options().domain),
        httpSecurity_(inboundHttpSecurityFilters(view)),
        tcpSecurity_(inboundTcpSecurityFilters(view)) {}

  std::vector<Listener> build() {
    std::vector<Listener> out;
    for (const GatewayPort& gp : mergeGatewayServers(view_)) {
      std::vector<ChainSpec> chains = chainsFor(gp);
      if (chains.empty()) continue;  // Envoy refuses a listener without chains; Istio omits it
      std::string bind = gp.bind.empty() ? std::string(kWildcardAddress) : gp.bind;
      Listener l;
      l.set_name(listenerName(bind, gp.port));
      setSocketAddress(*l.mutable_address(), bind, gp.port);
      l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
      for (const ChainSpec& c : chains)
        if (c.needsTlsInspector()) {
          *l.add_listener_filters() = tlsInspectorFilter();
          break;
        }
      for (const ChainSpec& c : chains) *l.add_filter_chains() = toFilterChain(c);
      out.push_back(std::move(l));
    }
    return out;
  }

 private:
  std::vector<ChainSpec> chainsFor(const GatewayPort& gp) {
    std::string statPrefix =
        fmt::format("outbound_{}", listenerName(gp.bind.empty() ? kWildcardAddress : gp.bind, gp.port));
    const GatewayServer& first = gp.servers.front();
    if (model::isHttpProtocol(first.protocol)) {
      // Every HTTP server of the port: the virtual hosts come from RDS.
      ChainSpec c;
      c.filters.push_back(hcm(statPrefix, first.routeName(), first.protocol));
      return {c};
    }
    std::vector<ChainSpec> chains;
    for (const GatewayServer& s : gp.servers) {
      const Node* tls = serverTls(s);
      if (s.servesHttp()) {
        ChainSpec c;
        c.sniHosts = serverSniHosts(s);
        c.tls = gatewayServerTlsContext(tls, false);
        std::string_view name = model::text(s.server, "name");
        c.filters.push_back(hcm(name.empty() ? statPrefix : std::string(name), s.routeName(), s.protocol));
        chains.push_back(std::move(c));
      } else if (!tls) {
        if (auto f = tcpRouteFilter(s)) chains.push_back(tcpChain({}, std::nullopt, *f));
      } else if (!isPassthroughServer(s)) {
        if (auto f = tcpRouteFilter(s))
          chains.push_back(tcpChain(serverSniHosts(s), gatewayServerTlsContext(tls, true), *f));
      } else if (s.tlsMode == "PASSTHROUGH") {
        addPassthroughChains(chains, s, statPrefix);
      }
      // AUTO_PASSTHROUGH needs SNI-DNAT clusters CDS does not build yet: no chains.
    }
    return chains;
  }

  Filter hcm(const std::string& statPrefix, const std::string& rds, model::Protocol protocol) const {
    HcmOptions o;
    o.listenerClass = ListenerClass::Gateway;
    o.statPrefix = statPrefix;
    o.rds = rds;
    o.securityFilters = httpSecurity_;
    o.grpcWeb = protocol == model::Protocol::GrpcWeb;
    return httpConnectionManagerFilter(o);
  }

  ChainSpec tcpChain(std::vector<std::string> sni,
                     std::optional<envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext> tls,
                     Filter proxy) const {
    ChainSpec c;
    c.sniHosts = std::move(sni);
    c.tls = std::move(tls);
    c.filters = tcpSecurity_;
    c.filters.push_back(std::move(proxy));
    return c;
  }

  // Istio's buildGatewayNetworkFiltersFromTCPRoutes: the first `tcp` block, in VirtualService
  // order, whose matches apply to this server.
  std::optional<Filter> tcpRouteFilter(const GatewayServer& s) const {
    for (const core::Resource* vs : view_.snapshot.virtualServices(view_.proxy.namespace_, s.gatewayName())) {
      if (!gatewayHostsMatch(s, *vs, domain_)) continue;
      for (const Node* tcp : model::items(vs->spec()->get("tcp"))) {
        auto matches = model::items(tcp->get("match"));
        bool applies = matches.empty();
        for (const Node* m : matches) applies = applies || l4MatchApplies(view_, *vs, m, s.port, s.gatewayName());
        if (!applies) continue;
        if (auto f = tcpProxyForRoutes(view_, *vs, tcp->get("route"), s.port)) return f;
      }
    }
    return std::nullopt;
  }

  // Istio's buildGatewayNetworkFiltersFromTLSRoutes: one SNI chain per applicable `tls` match;
  // a match repeating an SNI host already routed on this listener is skipped (Envoy would reject
  // identical chain matches).
  void addPassthroughChains(std::vector<ChainSpec>& chains, const GatewayServer& s, const std::string& listener) {
    std::set<std::string>& known = sniByListener_[listener];
    for (const core::Resource* vs : view_.snapshot.virtualServices(view_.proxy.namespace_, s.gatewayName())) {
      if (!gatewayHostsMatch(s, *vs, domain_)) continue;
      for (const Node* tls : model::items(vs->spec()->get("tls"))) {
        for (const Node* m : model::items(tls->get("match"))) {
          if (!l4MatchApplies(view_, *vs, m, s.port, s.gatewayName())) continue;
          auto sni = model::stringList(m->get("sniHosts"));
          if (std::ranges::any_of(sni, [&](const std::string& h) { return known.contains(h); })) continue;
          auto f = tcpProxyForRoutes(view_, *vs, tls->get("route"), s.port);
          if (!f) continue;
          known.insert(sni.begin(), sni.end());
          chains.push_back(tcpChain(std::move(sni), std::nullopt, *f));
        }
      }
    }
  }

  const ProxyView& view_;
  std::string domain_;
  std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> httpSecurity_;
  std::vector<Filter> tcpSecurity_;
  std::map<std::string, std::set<std::string>> sniByListener_;  // SNI hosts routed per listener
};

}  // namespace

std::vector<Listener> buildGatewayListeners(const ProxyView& view) { return GatewayBuilder(view).build(); }

}  // namespace mesh::xds
