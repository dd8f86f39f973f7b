#include "controlplane/xds/route_generator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/gateway_selection.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/route_action.h"
#include "controlplane/xds/virtual_host_builder.h"

namespace mesh::xds {
namespace {

using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;

constexpr uint32_t kMaxDirectResponseBody = 1024 * 1024;  // Istio's, matching its webhook limit

std::optional<uint32_t> parsePort(std::string_view s) {
  uint32_t port = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || p != s.data() + s.size() || port == 0 || port > 65535) return std::nullopt;
  return port;
}

RouteConfiguration emptyConfig(std::string_view name) {
  RouteConfiguration rc;
  rc.set_name(std::string(name));
  rc.mutable_validate_clusters()->set_value(false);
  return rc;
}

// Istio's buildCatchAllVirtualHost: unknown hosts go to PassthroughCluster (ALLOW_ANY, or the
// Sidecar's egressProxy), or get a 502 under REGISTRY_ONLY.
VirtualHost catchAllVirtualHost(const ProxyView& view) {
  const core::Node* policy = nullptr;
  if (const core::Resource* sc = view.scope.sidecar())
    policy = sc->spec() ? sc->spec()->get("outboundTrafficPolicy") : nullptr;
  VirtualHost vh;
  vh.add_domains(std::string("*"));
  vh.set_include_request_attempt_count(true);
  auto* r = vh.add_routes();
  r->mutable_match()->set_prefix("/");
  if (model::text(policy, "mode") == "REGISTRY_ONLY") {
    vh.set_name("block_all");
    r->set_name("block_all");
    r->mutable_direct_response()->set_status(502);
    return vh;
  }
  vh.set_name("allow_any");
  r->set_name("allow_any");
  std::string cluster(kPassthroughCluster);
  if (const core::Node* egress = policy ? policy->get("egressProxy") : nullptr)
    cluster = resolveDestination(view, egress, view.proxy.namespace_, 0).cluster();
  r->mutable_route()->set_cluster(cluster);
  setRouteTimeout(*r->mutable_route(), 0, RouteFlavor::Envoy);
  return vh;
}

// Istio's dedupeDomains: Envoy rejects a route configuration where two virtual hosts share a
// name or a domain; the first wins. An expanded short name that is another service's real
// FQDN is dropped too (foo.com.cluster.local must not claim "foo.com").
class VirtualHostSet {
 public:
  explicit VirtualHostSet(std::set<std::string> knownFqdns) : knownFqdns_(std::move(knownFqdns)) {}

  void add(VirtualHost vh, std::string_view ownHost) {
    if (!names_.insert(vh.name()).second) return;
    VirtualHost out = vh;
    out.clear_domains();
    for (const std::string& d : vh.domains()) {
      std::string lower = d;
      std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      bool ownFqdn = d == ownHost || d.starts_with(std::string(ownHost) + ":");
      if (!ownFqdn && knownFqdns_.contains(d)) continue;
      if (domains_.insert(lower).second) out.add_domains(d);
    }
    if (out.domains_size() > 0) hosts_.push_back(std::move(out));
  }
  std::vector<VirtualHost> sorted() && {
    std::ranges::sort(hosts_, {}, &VirtualHost::name);
    return std::move(hosts_);
  }

 private:
  std::set<std::string> knownFqdns_;
  std::set<std::string> names_, domains_;
  std::vector<VirtualHost> hosts_;
};

RouteConfiguration portRouteConfig(const ProxyView& view, std::string_view name, uint32_t port) {
  VirtualServiceSet vss(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh"));
  VirtualHostOptions o;
  o.listenPort = port;
  std::vector<const model::Service*> services;
  std::set<std::string> known;
  for (const model::Service* svc : view.scope.services()) {
    const model::ServicePort* p = svc->port(port);
    // Istio's sidecar virtual hosts: HTTP ports and ports of unknown protocol (sniffed), so an
    // AUTO service sharing the port with an HTTP one is routed, not passed through.
    if (!p || !(model::isHttpProtocol(p->protocol) || p->protocol == model::Protocol::Unsupported)) continue;
    services.push_back(svc);
    known.insert(svc->hostname);
    known.insert(domainName(svc->hostname, port));
  }
  VirtualHostSet hosts(std::move(known));
  for (const model::Service* svc : services)
    hosts.add(buildVirtualHost(view, *svc, *svc->port(port), vss, o), svc->hostname);
  // Hosts only a VirtualService knows (an external "bookinfo.com") are served on port 80, as
  // Istio does, when the VirtualService claims no registry service.
  if (port == 80) {
    std::set<std::string_view> scopeHosts;
    for (const model::Service* s : view.scope.services()) scopeHosts.insert(s->hostname);
    for (size_t i = 0; i < vss.all().size(); ++i) {
      const core::Resource* vs = vss.all()[i];
      const std::vector<std::string>& vsHosts = vss.hostsOf(i);
      bool claimsService = std::ranges::any_of(vsHosts, [&](const std::string& h) {
        if (!h.starts_with('*')) return scopeHosts.contains(h);  // a plain host matches only itself
        return std::ranges::any_of(view.scope.services(),
                                   [&](const model::Service* s) { return model::hostMatches(h, s->hostname); });
      });
      if (claimsService) continue;
      auto routes = buildHttpRoutes(view, *vs, o);
      if (routes.empty()) continue;
      for (const std::string& h : vsHosts) {
        if (h == "*") continue;  // "*" belongs to the catch-all virtual host
        VirtualHost vh;
        vh.set_name(domainName(h, port));
        vh.add_domains(h);
        vh.add_domains(domainName(h, port));
        for (const auto& r : routes) *vh.add_routes() = r;
        vh.set_include_request_attempt_count(true);
        hosts.add(std::move(vh), h);
      }
    }
  }
  RouteConfiguration rc = emptyConfig(name);
  for (VirtualHost& vh : std::move(hosts).sorted()) *rc.add_virtual_hosts() = std::move(vh);
  *rc.add_virtual_hosts() = catchAllVirtualHost(view);
  rc.mutable_max_direct_response_body_size_bytes()->set_value(kMaxDirectResponseBody);
  return rc;
}

// "host:port": the listener already picked the service, so its virtual host takes every domain.
RouteConfiguration sniffedRouteConfig(const ProxyView& view, std::string_view name, std::string_view host,
                                      uint32_t port) {
  RouteConfiguration rc = emptyConfig(name);
  for (const model::Service* svc : view.scope.services()) {
    if (svc->hostname != host) continue;
    const model::ServicePort* p = svc->port(port);
    if (!p || !(model::isHttpProtocol(p->protocol) || p->protocol == model::Protocol::Unsupported)) break;
    VirtualHostOptions o;
    o.listenPort = port;
    VirtualHost vh = buildVirtualHost(
        view, *svc, *p, VirtualServiceSet(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh")), o);
    vh.clear_domains();
    vh.add_domains(std::string("*"));
    *rc.add_virtual_hosts() = std::move(vh);
    rc.mutable_max_direct_response_body_size_bytes()->set_value(kMaxDirectResponseBody);
  }
  return rc;
}

// What the generated configs depend on beyond the name: the Sidecar scope (and namespace), the
// proxy's DNS domain (short-name domains) and, when some VirtualService uses sourceLabels, the
// proxy's labels. Gateways also depend on labels: they decide which Gateways select the proxy.
std::string cacheKeyPrefix(const ProxyView& view, bool gateway) {
  if (gateway) {
    std::string key = view.outboundKey("rds-gw");
    for (const auto& [k, v] : view.proxy.labels) key += fmt::format("|{}={}", k, v);
    return key;
  }
  std::string key = fmt::format("{}|{}", view.outboundKey("rds"), view.proxy.dnsDomain);
  if (view.snapshot.anyVirtualServiceMatchesSourceLabels() &&
      usesSourceLabels(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh")))
    for (const auto& [k, v] : view.proxy.labels) key += fmt::format("|{}={}", k, v);
  return key;
}

}  // namespace

RouteConfiguration buildSidecarRouteConfig(const ProxyView& view, std::string_view name) {
  if (auto port = parsePort(name)) return portRouteConfig(view, name, *port);
  auto colon = name.rfind(':');
  if (colon != std::string_view::npos)
    if (auto port = parsePort(name.substr(colon + 1)))
      return sniffedRouteConfig(view, name, name.substr(0, colon), *port);
  return emptyConfig(name);
}

XdsResources RouteGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  bool gateway = view.proxy.type == model::ProxyType::Router;
  std::vector<std::string> wanted = names.list();
  if (names.wildcard) {
    std::set<std::string> all;
    if (gateway) {
      for (const GatewayServer& s : gatewaysFor(view))
        if (s.servesHttp()) all.insert(s.routeName());
    } else {
      for (const model::Service* svc : view.scope.services())
        for (const model::ServicePort& p : svc->ports)
          if (model::isHttpProtocol(p.protocol)) all.insert(std::to_string(p.port));
    }
    wanted.assign(all.begin(), all.end());
  }
  XdsResources out;
  std::string prefix = view.cache ? cacheKeyPrefix(view, gateway) : "";
  for (const std::string& name : wanted) {
    auto built = view.shared(fmt::format("{}|{}", prefix, name), [&] {
      RouteConfiguration rc = gateway ? buildGatewayRouteConfig(view, name) : buildSidecarRouteConfig(view, name);
      return XdsResources{XdsResource::of(name, rc)};
    });
    out.push_back(built->front());
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
