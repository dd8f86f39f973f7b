#include "controlplane/xds/virtual_host_builder.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/http_route_spec.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/route_action.h"
#include "controlplane/xds/route_filters.h"
#include "controlplane/xds/route_match.h"
#include "core/validation/duration.h"

namespace mesh::xds {
namespace {

using core::Node;
using core::Resource;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using envoy::config::route::v3::VirtualHost;
using model::items;
using model::text;

std::optional<int64_t> durationOf(const Node* n) {
  if (!n || !n->isScalar()) return std::nullopt;
  return core::validation::parseDuration(n->text());
}

// Istio's BuildConfigInfoMetadata: which config made the route, read by istioctl and describe.
void setConfigMetadata(Route& out, const Resource& vs) {
  auto& istio = (*out.mutable_metadata()->mutable_filter_metadata())["istio"];
  std::string_view version = vs.version().empty() ? std::string_view("v1") : vs.version();
  (*istio.mutable_fields())["config"].set_string_value(fmt::format(
      "/apis/networking.istio.io/{}/namespaces/{}/virtual-service/{}", version, vs.namespace_(), vs.name()));
}

// Istio's GetRouteOperation: "host:port/path" for one destination, "vs:port/path" otherwise.
std::string routeOperation(const Route& r, std::string_view vsName, uint32_t port) {
  std::string path = "/*";
  const auto& m = r.match();
  if (m.has_prefix()) path = m.prefix() + "*";
  else if (m.has_path()) path = m.path();
  else if (m.has_safe_regex()) path = m.safe_regex().regex();
  if (r.has_route() && r.route().has_cluster())
    if (auto cn = ClusterName::parse(r.route().cluster())) return fmt::format("{}:{}{}", cn->host, cn->port, path);
  return fmt::format("{}:{}{}", vsName, port, path);
}

template <typename T>
void addHeaderOps(T& out, const HeaderOperations& ops) {
  for (const auto& h : ops.requestToAdd) *out.add_request_headers_to_add() = h;
  for (const auto& h : ops.responseToAdd) *out.add_response_headers_to_add() = h;
  for (const auto& h : ops.requestToRemove) out.add_request_headers_to_remove(h);
  for (const auto& h : ops.responseToRemove) out.add_response_headers_to_remove(h);
}

// Istio's applyHTTPRouteDestination. false when the entry has no destination to route to.
bool applyDestination(const ProxyView& view, const HttpRouteSpec& spec, Route& out, std::string authority,
                      const VirtualHostOptions& o) {
  auto dests = items(spec.http->get("route"));
  if (dests.empty()) return false;
  RouteAction& action = *out.mutable_route();
  setRouteTimeout(action, durationOf(spec.get("timeout").node), o.flavor);
  if (const Node* rewrite = spec.get("rewrite").node) {
    if (const Node* rx = rewrite->get("uriRegexRewrite")) {
      action.mutable_regex_rewrite()->mutable_pattern()->set_regex(std::string(text(rx, "match")));
      action.mutable_regex_rewrite()->set_substitution(std::string(text(rx, "rewrite")));
    } else if (auto uri = text(rewrite, "uri"); !uri.empty()) {
      action.set_prefix_rewrite(std::string(uri));
    }
    if (auto a = text(rewrite, "authority"); !a.empty()) authority = std::string(a);
  }
  if (!authority.empty()) action.set_host_rewrite_literal(authority);
  if (o.flavor == RouteFlavor::Envoy) {  // gRPC clients do not mirror
    if (auto mirror = spec.get("mirror")) {
      const Node* pct = spec.get("mirrorPercentage").node;
      if (auto f = mirrorFraction(pct, pct ? nullptr : spec.get("mirrorPercent").node)) {
        auto d = resolveDestination(view, mirror.node, mirror.ns, o.listenPort);
        *action.add_request_mirror_policies() = mirrorPolicy(d.cluster(), *f);
      }
    }
    auto mirrors = spec.get("mirrors");
    for (const Node* m : items(mirrors.node)) {
      const Node* dest = m->get("destination");
      auto f = mirrorFraction(m->get("percentage"), nullptr);
      if (!dest || !f) continue;
      *action.add_request_mirror_policies() =
          mirrorPolicy(resolveDestination(view, dest, mirrors.ns, o.listenPort).cluster(), *f);
    }
  }
  bool consistentHash = false;
  std::string_view ns = spec.owner->namespace_();
  if (dests.size() == 1) {
    auto d = resolveDestination(view, dests[0]->get("destination"), ns, o.listenPort);
    action.set_cluster(d.cluster());
    if (const Node* h = dests[0]->get("headers")) {
      HeaderOperations ops = headerOperations(h);
      addHeaderOps(out, ops);
      // A route-level authority rewrite wins over the destination's, as in Istio.
      if (!ops.authority.empty() && action.host_rewrite_specifier_case() == RouteAction::HOST_REWRITE_SPECIFIER_NOT_SET)
        action.set_host_rewrite_literal(ops.authority);
    }
    if (auto hp = hashPolicyFor(view, d, o.flavor)) {
      *action.add_hash_policy() = std::move(*hp);
      consistentHash = true;
    }
  } else {
    // Weights are relative: Envoy divides by their sum, so no total_weight (Istio drops it too).
    auto* wc = action.mutable_weighted_clusters();
    for (const Node* dst : dests) {
      auto weight = model::uint32At(dst, "weight");
      if (!weight) continue;  // zero-weight destinations are ignored next to others
      auto d = resolveDestination(view, dst->get("destination"), ns, o.listenPort);
      auto* c = wc->add_clusters();
      c->set_name(d.cluster());
      c->mutable_weight()->set_value(*weight);
      if (const Node* h = dst->get("headers")) {
        HeaderOperations ops = headerOperations(h);
        addHeaderOps(*c, ops);
        if (!ops.authority.empty()) c->set_host_rewrite_literal(ops.authority);
      }
      if (auto hp = hashPolicyFor(view, d, o.flavor)) *action.add_hash_policy() = std::move(*hp);
    }
    if (wc->clusters_size() == 0) return false;
  }
  if (auto retry = retryPolicy(spec.get("retries").node, consistentHash, o.flavor))
    *action.mutable_retry_policy() = *retry;
  return true;
}

// Istio's translateRoute for one (entry, match) pair; nullopt when the match does not apply to
// this proxy or the entry cannot be expressed for the flavor.
std::optional<Route> translateRoute(const ProxyView& view, const HttpRouteSpec& spec, const MatchCondition* match,
                                    const VirtualHostOptions& o) {
  if (match && !matchApplies(*match, view.proxy, o.gateway, o.listenPort)) return std::nullopt;
  const Node* redirect = spec.http->get("redirect");
  // gRPC clients drop redirect routes (C++) or reject the whole configuration (Node).
  if (redirect && o.flavor == RouteFlavor::ProxylessGrpc) return std::nullopt;
  const Resource& config = spec.rootOwner ? *spec.rootOwner : *spec.owner;
  Route out;
  out.set_name(match && !match->name.empty() ? spec.name + "." + match->name : spec.name);
  *out.mutable_match() = translateMatch(match, o.flavor);
  setConfigMetadata(out, config);
  if (match && !match->statPrefix.empty()) out.set_stat_prefix(match->statPrefix);
  HeaderOperations ops = headerOperations(spec.get("headers").node);
  addHeaderOps(out, ops);
  if (redirect) {
    if (!applyRedirect(out, redirect, o.listenPort, o.tls)) return std::nullopt;
  } else if (const Node* dr = spec.http->get("directResponse")) {
    applyDirectResponse(out, dr);
  } else if (!applyDestination(view, spec, out, ops.authority, o)) {
    return std::nullopt;
  }
  if (o.flavor == RouteFlavor::Envoy)
    out.mutable_decorator()->set_operation(routeOperation(out, config.name(), o.listenPort));
  auto& filters = *out.mutable_typed_per_filter_config();
  if (auto fault = translateFault(spec.get("fault").node)) filters[std::string(kFaultFilterName)] = pack(*fault);
  // gRPC has no CORS filter and rejects per-route config for filters it does not know.
  if (const Node* cors = spec.get("corsPolicy").node; cors && o.flavor == RouteFlavor::Envoy)
    filters[std::string(kCorsFilterName)] = pack(translateCors(cors));
  return out;
}

bool hasSourceLabels(const Resource& vs) {
  for (const Node* http : items(vs.spec() ? vs.spec()->get("http") : nullptr))
    for (const Node* m : items(http->get("match")))
      if (m->get("sourceLabels")) return true;
  return false;
}

}  // namespace

std::vector<Route> buildHttpRoutes(const ProxyView& view, const Resource& vs, const VirtualHostOptions& options) {
  std::vector<Route> out;
  for (const HttpRouteSpec& spec : expandHttpRoutes(view.snapshot, vs)) {
    bool catchAll = false;
    if (spec.matches.empty()) {
      if (auto r = translateRoute(view, spec, nullptr, options)) out.push_back(std::move(*r));
      catchAll = true;
    } else {
      for (const MatchCondition& m : spec.matches) {
        auto r = translateRoute(view, spec, &m, options);
        if (!r) continue;
        catchAll = isCatchAllRoute(*r);
        out.push_back(std::move(*r));
        if (catchAll) break;  // routes match in order: nothing after this is reachable
      }
    }
    if (catchAll) break;
  }
  return out;
}

Route buildDefaultRoute(const ProxyView& view, const model::Service& svc, const model::ServicePort& port,
                        const VirtualHostOptions& options) {
  Route r;
  r.set_name("default");
  r.mutable_match()->set_prefix("/");
  auto* action = r.mutable_route();
  ResolvedDestination d;
  d.host = svc.hostname;
  d.port = port.port;
  d.service = &svc;
  action->set_cluster(d.cluster());
  setRouteTimeout(*action, std::nullopt, options.flavor);
  // The consistent hash of a service without VirtualService still needs its key on the route.
  if (auto hp = hashPolicyFor(view, d, options.flavor)) *action->add_hash_policy() = std::move(*hp);
  if (auto retry = retryPolicy(nullptr, false, options.flavor)) *action->mutable_retry_policy() = *retry;
  if (options.flavor == RouteFlavor::Envoy)
    r.mutable_decorator()->set_operation(fmt::format("{}:{}/*", svc.hostname, port.port));
  return r;
}

std::vector<std::string> virtualServiceHosts(const model::ConfigSnapshot& snapshot, const Resource& vs) {
  std::vector<std::string> out;
  for (const std::string& h : model::stringList(vs.spec() ? vs.spec()->get("hosts") : nullptr))
    out.push_back(resolveHost(h, vs.namespace_(), snapshot.options().domain));
  return out;
}

VirtualHost buildVirtualHost(const ProxyView& view, const model::Service& svc, const model::ServicePort& port,
                             const VirtualServiceSet& virtualServices, const VirtualHostOptions& options) {
  VirtualHostOptions o = options;
  if (o.listenPort == 0) o.listenPort = port.port;
  auto build = [&] {
    VirtualHost vh;
    vh.set_name(domainName(svc.hostname, port.port));
    std::vector<Route> routes;
    if (const Resource* vs = virtualServices.claiming(svc.hostname)) routes = buildHttpRoutes(view, *vs, o);
    if (routes.empty()) routes.push_back(buildDefaultRoute(view, svc, port, o));
    for (Route& r : routes) *vh.add_routes() = std::move(r);
    if (o.flavor == RouteFlavor::Envoy) vh.set_include_request_attempt_count(true);
    return vh;
  };
  // Only the domains depend on the proxy's namespace when nothing else does (no sourceLabels,
  // see ConfigSnapshot::outboundIsNamespaceIndependent): every namespace's route configuration
  // then copies one translation of the service's routes instead of translating them again.
  bool shared = view.cache && o.gateway == "mesh" && view.snapshot.outboundIsNamespaceIndependent() &&
                !view.snapshot.anyVirtualServiceMatchesSourceLabels();
  VirtualHost vh = shared ? *view.cache->memo<VirtualHost>(fmt::format("vh|{}|{}|{}|{}|{}", static_cast<const void*>(&svc),
                                                                       port.port, o.listenPort,
                                                                       static_cast<int>(o.flavor), o.tls),
                                                           build)
                          : build();
  for (std::string& d : virtualHostDomains(svc, port.port, view.proxy, o.portInDomains)) vh.add_domains(std::move(d));
  return vh;
}

bool usesSourceLabels(const model::ConfigSnapshot& snapshot, const std::vector<const Resource*>& virtualServices) {
  for (const Resource* vs : virtualServices) {
    if (hasSourceLabels(*vs)) return true;
    for (const Resource* d : delegatesOf(snapshot, *vs))
      if (hasSourceLabels(*d)) return true;
  }
  return false;
}

}  // namespace mesh::xds
