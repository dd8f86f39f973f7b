// Route attachment, after istiod's extractParentReferenceInfo/referenceAllowed: which listeners
// of which Gateways a route's parentRefs select (sectionName, port, allowed kinds and
// namespaces, hostname intersection), and GAMMA parents (a Service: the route applies to mesh
// traffic for that Service). The result is one Attachment per generated Gateway or Service.
#include <algorithm>

#include <fmt/format.h>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/gateway_api/context.h"
#include "controlplane/model/node_values.h"

namespace mesh::model::gateway_api {
namespace {

// The hostnames a route serves on a listener (Gateway API hostname intersection): the more
// specific of each matching pair; the route's own when the listener has none; the listener's
// when the route has none. Empty: nothing matches.
std::vector<std::string> intersect(const std::vector<std::string>& routeHosts, const std::string& listenerHost) {
  if (listenerHost.empty()) return routeHosts.empty() ? std::vector<std::string>{"*"} : routeHosts;
  if (routeHosts.empty()) return {listenerHost};
  std::vector<std::string> out;
  for (const std::string& r : routeHosts) {
    if (hostMatches(listenerHost, r)) out.push_back(r);
    else if (hostMatches(r, listenerHost)) out.push_back(listenerHost);
  }
  return out;
}

// Drops duplicates and hosts another host already covers: Istio rejects overlapping hosts in
// one VirtualService, and a covered host would get the same routes anyway.
std::vector<std::string> normalizeHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string> out;
  for (size_t i = 0; i < hosts.size(); ++i) {
    bool covered = false;
    for (size_t j = 0; j < hosts.size() && !covered; ++j) {
      if (i == j) continue;
      if (hosts[i] == hosts[j]) covered = j < i;
      else covered = hostMatches(hosts[j], hosts[i]);
    }
    if (!covered) out.push_back(hosts[i]);
  }
  return out;
}

// Whether a VirtualService for `kind` would be applied on this listener's server.
bool sameFamily(RouteKind kind, const Listener& l) {
  switch (kind) {
    case RouteKind::Http:
    case RouteKind::Grpc: return l.protocol == "HTTP" || l.protocol == "HTTPS";
    case RouteKind::Tcp: return l.protocol == "TCP" || (l.protocol == "TLS" && !l.passthrough);
    case RouteKind::Tls: return l.protocol == "TLS" && l.passthrough;
  }
  return false;
}

struct Pending {
  Attachment attachment;
  const GatewayInfo* gateway = nullptr;
  std::set<const Listener*> listeners;
  bool anyPort = false;  // GAMMA: a parentRef without a port
};

// Ports to match on: none when every listener the VirtualService would be applied on is one the
// route attached to; else the attached listeners' ports (a sectionName or port picked a subset).
std::vector<uint32_t> restrictPorts(RouteKind kind, const std::string& routeNs, const Pending& p) {
  bool subset = false;
  for (const Listener& l : p.gateway->listeners) {
    if (p.listeners.contains(&l) || !sameFamily(kind, l)) continue;
    if (!l.allNamespaces && !l.namespaces.contains(routeNs)) continue;
    for (const std::string& h : p.attachment.hosts)
      if (l.hostname.empty() || hostMatches(h, l.hostname) || hostMatches(l.hostname, h)) subset = true;
  }
  std::vector<uint32_t> ports;
  if (!subset) return ports;
  for (const Listener* l : p.listeners) ports.push_back(l->port);
  std::ranges::sort(ports);
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

bool gatewayExists(const Inputs& in, std::string_view ns, std::string_view name) {
  for (const core::Resource* g : in.gateways)
    if (g->namespace_() == ns && g->name() == name) return true;
  return false;
}

}  // namespace

std::vector<Attachment> attachRoute(Context& ctx, RouteKind kind, const core::Resource& route) {
  const core::Node* spec = route.spec();
  std::vector<std::string> hostnames =
      kind == RouteKind::Tcp ? std::vector<std::string>{} : stringList(spec ? spec->get("hostnames") : nullptr);
  std::string routeNs(route.namespace_());
  std::map<std::string, Pending> byParent;
  auto refs = items(spec ? spec->get("parentRefs") : nullptr);
  for (size_t i = 0; i < refs.size(); ++i) {
    const core::Node* ref = refs[i];
    std::string field = fmt::format("spec.parentRefs[{}]", i);
    std::string_view group = ref->get("group") ? text(ref, "group") : kGatewayGroup;
    std::string_view kindText = ref->get("kind") ? text(ref, "kind") : "Gateway";
    std::string_view name = text(ref, "name");
    std::string ns(text(ref, "namespace"));
    if (ns.empty()) ns = routeNs;
    auto port = uint32At(ref, "port");
    if (group == kGatewayGroup && kindText == "Gateway") {
      const GatewayInfo* gw = ctx.gateway(ns, name);
      if (!gw) {
        // A Gateway of another class is another controller's business.
        if (!gatewayExists(ctx.inputs(), ns, name))
          ctx.warn(route, ref, field,
                   fmt::format("parent Gateway {}/{} not found; the route does not attach to it", ns, name));
        continue;
      }
      std::string_view section = text(ref, "sectionName");
      // Why nothing attached; a listener of the right kind explains more than one of another kind.
      std::string reason, kindReason;
      bool attached = false;
      for (const Listener& l : gw->listeners) {
        if (!section.empty() && l.name != section) continue;
        if (port && l.port != *port) continue;
        if (!l.kinds.contains(std::string(kindName(kind)))) {
          if (kindReason.empty()) kindReason = fmt::format("listener {} does not admit {}s", l.name, kindName(kind));
          continue;
        }
        if (!l.allNamespaces && !l.namespaces.contains(routeNs)) {
          reason = fmt::format("listener {} does not admit routes from namespace \"{}\"", l.name, routeNs);
          continue;
        }
        std::vector<std::string> hosts =
            kind == RouteKind::Tcp ? std::vector<std::string>{"*"} : intersect(hostnames, l.hostname);
        if (hosts.empty()) {
          reason = fmt::format("no hostname of the route matches listener {} ({})", l.name, l.hostname);
          continue;
        }
        Pending& p = byParent[gw->internalName];
        p.gateway = gw;
        p.attachment.gateway = gw->internalName;
        if (!p.attachment.ref) p.attachment.ref = ref;
        p.attachment.hosts.insert(p.attachment.hosts.end(), hosts.begin(), hosts.end());
        p.listeners.insert(&l);
        attached = true;
      }
      if (!attached) {
        std::string why = reason.empty() ? kindReason : reason;
        if (why.empty())
          why = fmt::format("no converted listener{}{}", section.empty() ? "" : fmt::format(" named {}", section),
                            port ? fmt::format(" on port {}", *port) : "");
        ctx.warn(route, ref, field, fmt::format("Gateway {}/{}: {}; the route does not attach to it", ns, name, why));
      }
    } else if (group.empty() && kindText == "Service") {
      // GAMMA: the route applies to mesh traffic addressed to the Service.
      if (!ctx.service(ns, name)) {
        ctx.warn(route, ref, field,
                 fmt::format("parent Service {}/{} not found; the route does not attach to it", ns, name));
        continue;
      }
      std::string host = fmt::format("{}.{}.svc.{}", name, ns, ctx.domain());
      Pending& p = byParent["mesh|" + host];
      p.attachment.gateway = "mesh";
      p.attachment.hosts = {host};
      p.attachment.consumerRoute = ns != routeNs;
      if (!p.attachment.ref) p.attachment.ref = ref;
      if (port) p.attachment.ports.push_back(*port);
      else p.anyPort = true;
    }
    // Other parent kinds belong to other controllers.
  }
  std::vector<Attachment> out;
  for (auto& [key, p] : byParent) {
    p.attachment.hosts = normalizeHosts(p.attachment.hosts);
    if (p.gateway) {
      p.attachment.ports = restrictPorts(kind, routeNs, p);
    } else if (p.anyPort) {
      p.attachment.ports.clear();
    } else {
      std::ranges::sort(p.attachment.ports);
      p.attachment.ports.erase(std::unique(p.attachment.ports.begin(), p.attachment.ports.end()),
                               p.attachment.ports.end());
    }
    out.push_back(std::move(p.attachment));
  }
  return out;
}

}  // namespace mesh::model::gateway_api
