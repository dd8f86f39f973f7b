// TCPRoute and TLSRoute → VirtualService tcp and tls routes, after istiod's
// buildTCPVirtualService/buildTLSVirtualService: TCP routes match every host ("*") of the
// listeners they attach to, TLS routes match their hostnames as SNI. Rules left without a valid
// backend are dropped (a connection cannot be answered with a status).
#include <fmt/format.h>

#include "controlplane/model/gateway_api/context.h"
#include "controlplane/model/node_values.h"

namespace mesh::model::gateway_api {
namespace {

void convertRoutes(Context& ctx, RouteKind kind, const std::vector<const core::Resource*>& routes) {
  bool tls = kind == RouteKind::Tls;
  for (const core::Resource* route : routes) {
    std::vector<Attachment> attachments = attachRoute(ctx, kind, *route);
    if (attachments.empty()) continue;
    std::vector<Value> destinations;
    auto rules = items(route->spec()->get("rules"));
    for (size_t i = 0; i < rules.size(); ++i) {
      std::string path = fmt::format("spec.rules[{}]", i);
      Routed routed = routeBackends(ctx, kind, *route, rules[i], path, false);
      if (routed.route.items().empty()) {
        ctx.warn(*route, rules[i], path, "no valid backend with weight > 0; rule left out");
        continue;
      }
      destinations.push_back(std::move(routed.route));
    }
    if (destinations.empty()) continue;
    for (size_t i = 0; i < attachments.size(); ++i) {
      const Attachment& a = attachments[i];
      core::Mark ref = markOf(a.ref);
      Value root = Value::map(route->mark());
      root.set("apiVersion", Value::string("networking.istio.io/v1", route->mark()));
      root.set("kind", Value::string("VirtualService", route->mark()));
      root.set("metadata",
               generatedMetadata(virtualServiceName(route->name(), tls ? "tls-" : "tcp-", i), *route, true));
      Value& spec = root.set("spec", Value::map(markOf(route->spec())));
      spec.set("hosts", Value::strings(a.hosts, ref));
      spec.set("gateways", Value::strings({a.gateway}, ref));
      if (a.consumerRoute) spec.set("exportTo", Value::strings({"."}, ref));
      Value& list = spec.set(tls ? "tls" : "tcp", Value::list(markAt(route->spec(), "rules")));
      for (const Value& dests : destinations) {
        Value r = Value::map(dests.mark());
        if (tls || !a.ports.empty()) {
          Value& matches = r.set("match", Value::list(ref));
          auto addMatch = [&](std::optional<uint32_t> port) {
            Value m = Value::map(ref);
            if (tls) m.set("sniHosts", Value::strings(a.hosts, ref));
            if (port) m.set("port", Value::number(*port, ref));
            matches.push(std::move(m));
          };
          if (a.ports.empty()) addMatch(std::nullopt);
          for (uint32_t port : a.ports) addMatch(port);
        }
        r.set("route", dests);
        list.push(std::move(r));
      }
      ctx.emit(root, *route);
    }
  }
}

}  // namespace

void convertL4Routes(Context& ctx) {
  convertRoutes(ctx, RouteKind::Tcp, ctx.inputs().tcpRoutes);
  convertRoutes(ctx, RouteKind::Tls, ctx.inputs().tlsRoutes);
}

}  // namespace mesh::model::gateway_api
