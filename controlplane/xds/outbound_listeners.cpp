// Sidecar outbound listeners, as Istio's buildSidecarOutboundListener lays them out:
//   HTTP-family ports → "0.0.0.0_<port>", an HCM on RDS "<port>" matched on plaintext HTTP
//     (the HTTP inspector sets http/1.1 or h2c), anything else falls to PassthroughFilterChain;
//   TCP, unknown-protocol and database ports → "<service address>_<port>" with tcp_proxy, or
//     VirtualService `tcp` routes (destination subnets become prefix_ranges);
//   TLS and HTTPS ports → the same listener with SNI chains from VirtualService `tls` routes;
//   headless services → one listener per endpoint address.
// Listeners that land on the same name merge their chains (HTTP and TCP on 0.0.0.0_<port>
// give a sniffing listener), as Istio's conflict handling does.
#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/http_connection_manager.h"
#include "controlplane/xds/listener_builders.h"
#include "controlplane/xds/listener_common.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/tcp_routes.h"
#include "controlplane/xds/virtual_service_set.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::listener::v3::Listener;
using model::Protocol;

bool isIpAddress(std::string_view s) {
  std::string str(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, str.c_str(), buf) == 1 || inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

std::set<std::string> asSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// Envoy rejects two chains with identical matches (Istio's filterChainOpts.conflictsWith).
bool sameMatch(const ChainSpec& a, const ChainSpec& b) {
  auto sni = [](const std::vector<std::string>& hosts) {
    std::set<std::string> s = asSet(hosts);
    s.erase("*");
    return s;
  };
  return a.transportProtocol == b.transportProtocol && a.applicationProtocols == b.applicationProtocols &&
         sni(a.sniHosts) == sni(b.sniHosts) && asSet(a.destinationCidrs) == asSet(b.destinationCidrs) &&
         a.destinationPort == b.destinationPort;
}

struct OutboundEntry {
  std::string bind;
  uint32_t port = 0;
  bool http = false;  // holds the HTTP chain of this port
  std::vector<ChainSpec> chains;
};

class OutboundBuilder {
 public:
  explicit OutboundBuilder(const ProxyView& view)
      : view_(view), virtualServices_(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh")) {}

  std::vector<Listener> build() {
    for (const model::Service* svc : view_.scope.services())
      for (const model::ServicePort& port : svc->ports) addServicePort(*svc, port);
    std::vector<Listener> out;
    std::string catchAll = outboundCatchAllCluster(view_);
    for (const auto& [name, entry] : entries_) out.push_back(toListener(name, entry, catchAll));
    return out;
  }

 private:
  void addServicePort(const model::Service& svc, const model::ServicePort& port) {
    if (port.protocol == Protocol::Udp || port.protocol == Protocol::HttpProxy) return;
    if (model::isHttpProtocol(port.protocol)) {
      addHttp(port);
      return;
    }
    // Headless services and ServiceEntries without addresses (resolution NONE): clients dial
    // endpoint addresses, so each endpoint gets a listener (Istio's headless pod listeners).
    if (svc.resolution == model::Resolution::Passthrough && svc.address.empty()) {
      auto endpoints = view_.snapshot.registry().endpoints(svc, port.port);
      const Node* spec = svc.origin ? svc.origin->spec() : nullptr;
      bool selects = spec && (spec->get("workloadSelector") || spec->get("selector"));
      if (svc.fromServiceEntry && endpoints.empty() && !selects) {
        addTcp(svc, port, std::string(kWildcardAddress), {});
        return;
      }
      std::set<std::string> seen;
      for (const model::Endpoint& ep : endpoints)
        if (isIpAddress(ep.address) && seen.insert(ep.address).second) addTcp(svc, port, ep.address, {});
      return;
    }
    if (svc.address.find('/') != std::string::npos) {
      addTcp(svc, port, std::string(kWildcardAddress), {svc.address});  // a CIDR: match it on 0.0.0.0
      return;
    }
    addTcp(svc, port, svc.address.empty() ? std::string(kWildcardAddress) : svc.address, {});
  }

  void addHttp(const model::ServicePort& port) {
    std::string name = listenerName(kWildcardAddress, port.port);
    OutboundEntry& e = entries_[name];
    if (e.http) return;  // RDS "<port>" already carries every HTTP service on the port
    HcmOptions hcm;
    hcm.listenerClass = ListenerClass::SidecarOutbound;
    hcm.statPrefix = fmt::format("outbound_{}", name);
    hcm.rds = std::to_string(port.port);
    hcm.grpcWeb = port.protocol == Protocol::GrpcWeb;
    ChainSpec chain;
    chain.applicationProtocols = plaintextHttpAlpns();
    chain.transportProtocol = std::string(kRawBufferTransport);
    chain.filters.push_back(httpConnectionManagerFilter(hcm));
    e.bind = std::string(kWildcardAddress);
    e.port = port.port;
    e.http = true;
    e.chains.push_back(std::move(chain));
  }

  void addTcp(const model::Service& svc, const model::ServicePort& port, const std::string& bind,
              const std::vector<std::string>& cidrs) {
    auto vss = virtualServices_.matching(svc.hostname);
    std::vector<ChainSpec> chains = core::validation::isTls(port.protocol) ? tlsChains(svc, port, bind, cidrs, vss)
                                                                           : tcpChains(svc, port, cidrs, vss);
    OutboundEntry& e = entries_[listenerName(bind, port.port)];
    e.bind = bind;
    e.port = port.port;
    for (ChainSpec& c : chains) {
      bool clash = std::ranges::any_of(e.chains, [&](const ChainSpec& have) { return sameMatch(have, c); });
      if (!clash) e.chains.push_back(std::move(c));  // the first service on a match keeps it
    }
  }

  // Istio's buildSidecarOutboundTCPFilterChainOpts: the first `tcp` route without destination
  // subnets (or without matches) ends the list; routes with subnets match on them.
  std::vector<ChainSpec> tcpChains(const model::Service& svc, const model::ServicePort& port,
                                   const std::vector<std::string>& cidrs,
                                   const std::vector<const core::Resource*>& vss) {
    std::vector<ChainSpec> out;
    for (const core::Resource* vs : vss) {
      for (const Node* tcp : model::items(vs->spec()->get("tcp"))) {
        auto filter = tcpProxyForRoutes(view_, *vs, tcp->get("route"), port.port);
        if (!filter) continue;
        auto matches = model::items(tcp->get("match"));
        if (matches.empty()) {
          out.push_back(routeChain(cidrs, *filter));
          return out;
        }
        std::vector<std::string> subnets;
        for (const Node* m : matches) {
          if (!l4MatchApplies(view_, *vs, m, port.port, "mesh")) continue;
          auto s = model::stringList(m->get("destinationSubnets"));
          if (s.empty()) {
            out.push_back(routeChain(cidrs, *filter));
            return out;
          }
          subnets.insert(subnets.end(), s.begin(), s.end());
        }
        if (!subnets.empty()) {
          out.push_back(routeChain(subnets, *filter));
          // A subnet route covering the service's own match is its default route too.
          if (asSet(subnets) == asSet(cidrs)) return out;
        }
      }
    }
    out.push_back(routeChain(cidrs, tcpProxyToService(view_, defaultCluster(svc, port), &svc, "")));
    return out;
  }

  // Istio's buildSidecarOutboundTLSFilterChainOpts: one chain per distinct (SNI, subnets) of the
  // `tls` routes that apply; without any, the port's own cluster, matched on the hostname's SNI
  // when the listener is shared on 0.0.0.0.
  std::vector<ChainSpec> tlsChains(const model::Service& svc, const model::ServicePort& port, const std::string& bind,
                                   const std::vector<std::string>& cidrs,
                                   const std::vector<const core::Resource*>& vss) {
    std::vector<ChainSpec> out;
    std::set<std::string> handled;
    for (const core::Resource* vs : vss) {
      for (const Node* tls : model::items(vs->spec()->get("tls"))) {
        auto filter = tcpProxyForRoutes(view_, *vs, tls->get("route"), port.port);
        if (!filter) continue;
        for (const Node* m : model::items(tls->get("match"))) {
          if (!l4MatchApplies(view_, *vs, m, port.port, "mesh")) continue;
          auto sni = model::stringList(m->get("sniHosts"));
          auto subnets = model::stringList(m->get("destinationSubnets"));
          std::string key = fmt::format("{}|{}", fmt::join(sni, ","), fmt::join(subnets, ","));
          if (!handled.insert(key).second) continue;  // an earlier match already routes this
          ChainSpec c = routeChain(subnets.empty() ? cidrs : subnets, *filter);
          c.sniHosts = std::move(sni);
          out.push_back(std::move(c));
        }
      }
    }
    if (out.empty()) {
      ChainSpec c = routeChain(cidrs, tcpProxyToService(view_, defaultCluster(svc, port), &svc, ""));
      if (!cidrs.empty() || svc.address.empty() || bind == kWildcardAddress) c.sniHosts = {svc.hostname};
      out.push_back(std::move(c));
    }
    return out;
  }

  static ChainSpec routeChain(const std::vector<std::string>& cidrs, envoy::config::listener::v3::Filter filter) {
    ChainSpec c;
    c.destinationCidrs = cidrs;
    c.filters.push_back(std::move(filter));
    return c;
  }

  static std::string defaultCluster(const model::Service& svc, const model::ServicePort& port) {
    return outboundCluster(port.port, "", svc.hostname);
  }

  // Istio's buildListenerFromEntry.
  static Listener toListener(const std::string& name, const OutboundEntry& e, const std::string& catchAll) {
    Listener l;
    l.set_name(name);
    setSocketAddress(*l.mutable_address(), e.bind, e.port);
    l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
    l.mutable_bind_to_port()->set_value(false);  // reached from virtualOutbound by original destination
    l.set_continue_on_listener_filters_timeout(true);
    setDuration(*l.mutable_listener_filters_timeout(), 0);
    bool tls = false, http = false;
    for (const ChainSpec& c : e.chains) {
      tls = tls || c.needsTlsInspector();
      http = http || !c.applicationProtocols.empty();
    }
    if (tls) *l.add_listener_filters() = tlsInspectorFilter();
    if (http) *l.add_listener_filters() = httpInspectorFilter();
    for (const ChainSpec& c : e.chains) {
      // A chain that matches everything becomes the default chain, so connections that start
      // matching a more specific chain and then fail it still land somewhere (istio#26079).
      if (c.matchesAll())
        *l.mutable_default_filter_chain() = toFilterChain(c);
      else
        *l.add_filter_chains() = toFilterChain(c);
    }
    if (l.has_default_filter_chain() && l.filter_chains_size() == 0) {
      *l.add_filter_chains() = l.default_filter_chain();
      l.clear_default_filter_chain();
    } else if (!l.has_default_filter_chain()) {
      auto* d = l.mutable_default_filter_chain();
      d->set_name(std::string(kPassthroughFilterChain));
      d->mutable_filter_chain_match();
      *d->add_filters() = tcpProxyToCluster(catchAll);
    }
    return l;
  }

  const ProxyView& view_;
  VirtualServiceSet virtualServices_;
  std::map<std::string, OutboundEntry> entries_;
};

}  // namespace

std::vector<Listener> buildSidecarOutboundListeners(const ProxyView& view) { return OutboundBuilder(view).build(); }

Listener buildVirtualOutboundListener(const ProxyView& view) {
  Listener l;
  l.set_name(std::string(kVirtualOutboundListener));
  setSocketAddress(*l.mutable_address(), kWildcardAddress, kProxyOutboundPort);
  // use_original_dst hands each connection to the listener of its original destination;
  // Envoy installs the original_dst listener filter itself when this is set (Istio sends no
  // explicit one).
  l.mutable_use_original_dst()->set_value(true);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  // Connections addressed to 15001 itself would loop: drop them (Istio's blackhole chain).
  auto* blackhole = l.add_filter_chains();
  blackhole->set_name(std::string(kVirtualOutboundBlackholeChain));
  blackhole->mutable_filter_chain_match()->mutable_destination_port()->set_value(kProxyOutboundPort);
  *blackhole->add_filters() = tcpProxyToCluster(kBlackHoleCluster);
  auto* catchAll = l.add_filter_chains();
  catchAll->set_name(std::string(kVirtualOutboundCatchAllChain));
  *catchAll->add_filters() = tcpProxyToCluster(outboundCatchAllCluster(view));
  return l;
}

}  // namespace mesh::xds
