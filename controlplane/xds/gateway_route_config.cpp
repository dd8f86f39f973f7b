// Gateway RDS, as Istio's buildGatewayHTTPRouteConfig (pilot/pkg/networking/core/gateway.go):
// for every server behind one RDS name, the VirtualServices bound to its Gateway contribute
// their routes to a virtual host per host they share with the server. Part of route_generator.h.
#include <algorithm>
#include <cctype>
#include <map>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/gateway_selection.h"
#include "controlplane/xds/route_generator.h"
#include "controlplane/xds/route_match.h"
#include "controlplane/xds/virtual_host_builder.h"

namespace mesh::xds {
namespace {

using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Istio's host.Names.Intersection: for each pair where one host covers the other, the more
// specific one ("*.foo.com" server with "a.foo.com" VirtualService gives "a.foo.com").
std::vector<std::string> intersectHosts(const GatewayServer& server, const core::Resource& vs,
                                        const std::vector<std::string>& vsHosts) {
  std::vector<std::string> out;
  auto add = [&](std::string_view h) {
    if (std::ranges::find(out, h) == out.end()) out.emplace_back(h);
  };
  for (const std::string& sh : server.hosts) {
    auto host = serverHostFor(sh, vs.namespace_());
    if (!host) continue;
    for (const std::string& vh : vsHosts) {
      if (model::hostMatches(*host, vh)) add(vh);
      else if (model::hostMatches(vh, *host)) add(*host);
    }
  }
  return out;
}

// Istio's SortVHostRoutes: catch-all routes last, others in order.
void sortRoutes(VirtualHost& vh) {
  std::vector<Route> routes(vh.routes().begin(), vh.routes().end());
  std::ranges::stable_partition(routes, [](const Route& r) { return !isCatchAllRoute(r); });
  vh.clear_routes();
  for (Route& r : routes) *vh.add_routes() = std::move(r);
}

}  // namespace

RouteConfiguration buildGatewayRouteConfig(const ProxyView& view, std::string_view name) {
  RouteConfiguration rc;
  rc.set_name(std::string(name));
  rc.mutable_validate_clusters()->set_value(false);
  std::vector<GatewayServer> servers;
  for (GatewayServer& s : gatewaysFor(view))
    if (s.routeName() == name) servers.push_back(std::move(s));
  if (servers.empty()) return rc;

  std::map<std::string, VirtualHost> byHost;  // lower-cased host → its virtual host
  std::map<std::pair<std::string, const core::Resource*>, std::vector<Route>> routeCache;
  for (const GatewayServer& server : servers) {
    std::string gatewayName = server.gatewayName();
    VirtualHostOptions o;
    o.gateway = gatewayName;
    o.listenPort = server.port;
    o.tls = !server.tlsMode.empty();
    for (const core::Resource* vs : view.snapshot.virtualServices(view.proxy.namespace_, gatewayName)) {
      auto hosts = intersectHosts(server, *vs, virtualServiceHosts(view.snapshot, *vs));
      if (hosts.empty()) continue;
      auto [it, fresh] = routeCache.try_emplace({gatewayName, vs});
      if (fresh) it->second = buildHttpRoutes(view, *vs, o);
      const std::vector<Route>& routes = it->second;
      if (routes.empty()) continue;
      for (const std::string& h : hosts) {
        std::string host = lower(h);
        auto [vhIt, added] = byHost.try_emplace(host);
        VirtualHost& vh = vhIt->second;
        if (added) {
          vh.set_name(domainName(host, server.port));
          vh.add_domains(host);
          vh.set_include_request_attempt_count(true);
        }
        for (const Route& r : routes) *vh.add_routes() = r;
        if (server.httpsRedirect) vh.set_require_tls(VirtualHost::ALL);
      }
    }
    // httpsRedirect: every server host answers with a redirect to https, routes or not.
    if (server.httpsRedirect)
      for (const std::string& sh : server.hosts) {
        std::string host = lower(sh.substr(sh.find('/') == std::string::npos ? 0 : sh.find('/') + 1));
        auto [vhIt, added] = byHost.try_emplace(host);
        if (added) {
          vhIt->second.set_name(domainName(host, server.port));
          vhIt->second.add_domains(host);
          vhIt->second.set_include_request_attempt_count(true);
        }
        vhIt->second.set_require_tls(VirtualHost::ALL);
      }
  }
  if (byHost.empty()) {
    // Istio's "blackhole:<port>": no routes, so Envoy answers 404 instead of rejecting the config.
    auto* vh = rc.add_virtual_hosts();
    vh->set_name(domainName("blackhole", servers.front().port));
    vh->add_domains(std::string("*"));
  } else {
    std::vector<VirtualHost> hosts;
    for (auto& [h, vh] : byHost) {
      sortRoutes(vh);
      hosts.push_back(std::move(vh));
    }
    std::ranges::sort(hosts, {}, &VirtualHost::name);
    for (VirtualHost& vh : hosts) *rc.add_virtual_hosts() = std::move(vh);
  }
  // Gateways match hosts without the port (clients send "Host: a.com:8443" behind NAT too).
  rc.set_ignore_port_in_host_matching(true);
  rc.mutable_max_direct_response_body_size_bytes()->set_value(1024 * 1024);
  return rc;
}

}  // namespace mesh::xds
