#include "cli/describe/traffic.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "analyzers/util/hosts.h"
#include "analyzers/util/service_lookup.h"
#include "analyzers/util/workloads.h"
#include "analyzers/virtualservice/vs_destinations.h"
#include "cli/describe/routes.h"

namespace mesh::cli::describe {
namespace {

using analysis::kinds::DestinationRule;
using analysis::kinds::Gateway;
using analysis::kinds::VirtualService;
using core::Node;

std::span<const Node* const> itemsOf(const Node* n) { return n ? n->items() : std::span<const Node* const>(); }

// Whether an object with this exportTo, living in `ownNs`, is visible to `clientNs`.
bool exportedTo(const Node* exportTo, std::string_view ownNs, std::string_view clientNs) {
  auto list = analysis::stringList(exportTo);
  if (list.empty()) return true;
  return std::any_of(list.begin(), list.end(), [&](const std::string& e) {
    return e == "*" || e == clientNs || (e == "." && ownNs == clientNs);
  });
}

// The rule of namespace `ns` for `host` that a sidecar in `clientNs` may use: an exact host,
// else the longest matching wildcard. Rules with a workloadSelector apply to the client
// workloads they select only, so they are not the service's rule.
const core::Resource* bestRuleIn(const analysis::Snapshot& snapshot, std::string_view ns, std::string_view host,
                                 std::string_view clientNs, std::string_view domain) {
  const core::Resource* wildcard = nullptr;
  size_t wildcardLen = 0;
  for (const core::Resource* dr : snapshot.inNamespace(DestinationRule, ns)) {
    const Node* spec = dr->spec();
    if (!spec || spec->get("workloadSelector") || !exportedTo(spec->get("exportTo"), ns, clientNs)) continue;
    std::string drHost = analysis::istioFqdn(ns, analysis::scalarAt(spec, "host"), domain);
    if (drHost == host) return dr;
    if (drHost.starts_with('*') && analysis::hostMatches(drHost, host) && drHost.size() > wildcardLen) {
      wildcard = dr;
      wildcardLen = drHost.size();
    }
  }
  return wildcard;
}

std::string durationOrNumber(const Node* map, std::string_view key) { return std::string(analysis::scalarAt(map, key)); }

// "Load balancer: LEAST_REQUEST", "Connection pool: max 100 connections, ...": what istioctl's
// "Policies:" line only names.
std::vector<std::string> policyDetails(const Node* policy) {
  std::vector<std::string> out;
  if (const Node* lb = policy->get("loadBalancer")) {
    std::string what;
    if (const Node* simple = lb->get("simple")) what = std::string(simple->text());
    if (const Node* hash = lb->get("consistentHash")) {
      if (const Node* h = hash->get("httpHeaderName")) what = fmt::format("consistent hash on header {}", h->text());
      else if (const Node* c = hash->get("httpCookie")) what = fmt::format("consistent hash on cookie {}", analysis::scalarAt(c, "name"));
      else if (const Node* q = hash->get("httpQueryParameterName")) what = fmt::format("consistent hash on query parameter {}", q->text());
      else if (hash->get("useSourceIp")) what = "consistent hash on source IP";
      else what = "consistent hash";
    }
    if (lb->get("localityLbSetting")) what += what.empty() ? "locality settings" : " with locality settings";
    if (!what.empty()) out.push_back("Load balancer: " + what);
  }
  if (const Node* pool = policy->get("connectionPool")) {
    std::vector<std::string> parts;
    const Node* tcp = pool->get("tcp");
    const Node* http = pool->get("http");
    auto add = [&](const Node* map, std::string_view key, std::string_view format) {
      std::string v = durationOrNumber(map, key);
      if (!v.empty()) parts.push_back(fmt::format(fmt::runtime(format), v));
    };
    add(tcp, "maxConnections", "max {} connections");
    add(tcp, "connectTimeout", "connect timeout {}");
    add(http, "http1MaxPendingRequests", "max {} pending requests");
    add(http, "http2MaxRequests", "max {} requests");
    add(http, "maxRequestsPerConnection", "max {} requests per connection");
    add(http, "maxRetries", "max {} retries");
    if (!parts.empty()) out.push_back("Connection pool: " + fmt::format("{}", fmt::join(parts, ", ")));
  }
  if (const Node* od = policy->get("outlierDetection")) {
    std::vector<std::string> parts;
    auto add = [&](std::string_view key, std::string_view format) {
      std::string v = durationOrNumber(od, key);
      if (!v.empty()) parts.push_back(fmt::format(fmt::runtime(format), v));
    };
    add("consecutive5xxErrors", "eject after {} consecutive 5xx errors");
    add("consecutiveGatewayErrors", "eject after {} consecutive gateway errors");
    add("interval", "every {}");
    add("baseEjectionTime", "for {}");
    add("maxEjectionPercent", "at most {}% of endpoints");
    if (!parts.empty()) out.push_back("Outlier detection: " + fmt::format("{}", fmt::join(parts, ", ")));
  }
  return out;
}

std::vector<std::string> policyNames(const Node* policy) {
  std::vector<std::string> out;
  if (policy->get("loadBalancer")) out.push_back("load balancer");
  if (policy->get("connectionPool")) out.push_back("connection pool");
  if (policy->get("outlierDetection")) out.push_back("outlier detection");
  return out;
}

DestinationRuleView ruleView(const core::Resource& dr, const std::vector<Workload>& targets) {
  DestinationRuleView v;
  v.rule = &dr;
  const Node* spec = dr.spec();
  v.host = std::string(analysis::scalarAt(spec, "host"));
  for (const Node* s : itemsOf(spec->get("subsets"))) {
    std::string name(analysis::scalarAt(s, "name"));
    v.subsets.push_back(name);
    // istioctl's getDestRuleSubsets: labels.SelectorFromSet; no labels select every pod.
    auto selector = analysis::LabelSelector::fromSet(s->get("labels"));
    bool matches = std::any_of(targets.begin(), targets.end(), [&](const Workload& w) { return selector.matches(w.labels); });
    (matches ? v.matchingSubsets : v.nonMatchingSubsets).push_back(name);
  }
  const Node* policy = spec->get("trafficPolicy");
  v.hasTrafficPolicy = policy != nullptr && policy->isMapping();
  if (!v.hasTrafficPolicy) return v;
  v.tlsMode = std::string(analysis::scalarAt(policy->get("tls"), "mode"));
  v.policies = policyNames(policy);
  for (std::string& d : policyDetails(policy)) v.details.push_back({1, std::move(d)});
  if (const Node* ports = policy->get("portLevelSettings")) {
    v.details.push_back({1, "Port Level Settings:"});
    for (const Node* ps : ports->items()) {
      std::string number(analysis::scalarAt(ps->get("port"), "number"));
      v.details.push_back({1, number + ":"});
      std::string_view mode = analysis::scalarAt(ps->get("tls"), "mode");
      if (!mode.empty()) {
        v.details.push_back({2, fmt::format("TLS Mode: {}", mode)});
        v.portTlsModes.push_back(fmt::format("{}: {}", number, mode));
      }
      if (auto names = policyNames(ps); !names.empty())
        v.details.push_back({2, fmt::format("Policies: {}", fmt::join(names, "/"))});
      for (std::string& d : policyDetails(ps)) v.details.push_back({2, std::move(d)});
    }
  }
  return v;
}

bool meshBound(const std::vector<std::string>& gateways) {
  return gateways.empty() || std::find(gateways.begin(), gateways.end(), "mesh") != gateways.end();
}

std::vector<std::string> vsHosts(const core::Resource& vs) {
  return analysis::stringList(vs.spec() ? vs.spec()->get("hosts") : nullptr);
}

// A VirtualService that names the host among its hosts or destinations.
bool concerns(const core::Resource& vs, std::string_view host, std::string_view domain) {
  for (const std::string& h : vsHosts(vs))
    if (analysis::hostMatches(analysis::istioFqdn(vs.namespace_(), h, domain), host)) return true;
  return routesToHost(vs, host, domain);
}

// Warnings about where the VirtualService lives: exportTo that hides it from the service's own
// namespace, a service not exported to the VirtualService, a short host meant for another
// namespace.
void placementWarnings(const analysis::ServiceHostIndex& index,
                       const core::Resource& vs, const ServiceView& svc, std::string_view describeNs,
                       std::string_view domain, std::vector<std::string>& out) {
  const Node* spec = vs.spec();
  std::string name = kname(vs.name(), vs.namespace_(), describeNs);
  auto exportTo = analysis::stringList(spec->get("exportTo"));
  bool forHost = false;
  for (const std::string& h : vsHosts(vs))
    forHost = forHost || analysis::hostMatches(analysis::istioFqdn(vs.namespace_(), h, domain), svc.host);
  if (forHost && !exportedTo(spec->get("exportTo"), vs.namespace_(), svc.namespace_))
    out.push_back(fmt::format("WARNING: VirtualService {} is not exported to namespace {} (exportTo: {}); sidecars there "
                              "do not use it",
                              name, svc.namespace_, fmt::join(exportTo, ", ")));
  if (routesToHost(vs, svc.host, domain)) {
    const analysis::ServiceHostEntry* seen = index.lookup(vs.namespace_(), exportTo, svc.host);
    if (!seen || seen->origin != svc.origin)
      out.push_back(fmt::format("WARNING: VirtualService {} routes to {}, which is not exported to namespace {}", name,
                                svc.host, vs.namespace_()));
  }
  // A short name is read in the VirtualService's namespace: "reviews" written in namespace
  // "frontend" is reviews.frontend.svc.cluster.local.
  if (vs.namespace_() == svc.namespace_ || svc.kind != "Service") return;
  std::set<std::string> shortNames;
  for (const std::string& h : vsHosts(vs)) shortNames.insert(h);
  for (const auto& d : analysis::vsRouteDestinations(vs)) shortNames.insert(std::string(d.host()));
  if (!shortNames.contains(svc.name)) return;
  if (index.lookup(vs.namespace_(), exportTo, svc.name) != nullptr) return;
  out.push_back(fmt::format("WARNING: VirtualService {} names host \"{}\", which means {} in its namespace (no such "
                            "service); use {} for this service",
                            name, svc.name, analysis::istioFqdn(vs.namespace_(), svc.name, domain), svc.host));
}

std::string schemeOf(std::string_view protocol) {
  std::string p(protocol);
  std::transform(p.begin(), p.end(), p.begin(), ::toupper);
  if (p == "HTTPS") return "https";
  if (p == "TLS") return "tls";
  if (p == "TCP" || p == "MONGO" || p == "REDIS" || p == "MYSQL") return "tcp";
  return "http";
}

// istioctl's "Exposed on Ingress Gateway" URLs, from the Gateway's servers whose hosts the
// VirtualService's hosts overlap (the IP istioctl shows is a cluster's; a host is what config knows).
std::vector<std::string> exposedUrls(const core::Resource& gateway, const core::Resource& vs) {
  std::vector<std::string> urls;
  for (const Node* server : itemsOf(gateway.spec() ? gateway.spec()->get("servers") : nullptr)) {
    const Node* port = server->get("port");
    std::string scheme = schemeOf(analysis::scalarAt(port, "protocol"));
    std::string number(analysis::scalarAt(port, "number"));
    bool defaultPort = (scheme == "http" && number == "80") || (scheme == "https" && number == "443");
    for (const std::string& written : analysis::stringList(server->get("hosts"))) {
      // "namespace/host": the namespace limits which VirtualServices may bind.
      size_t slash = written.find('/');
      std::string serverHost = slash == std::string::npos ? written : written.substr(slash + 1);
      for (const std::string& h : vsHosts(vs)) {
        if (!analysis::hostsOverlap(serverHost, h)) continue;
        std::string host = h.starts_with('*') && !serverHost.starts_with('*') ? serverHost : h;
        std::string url = fmt::format("{}://{}{}", scheme, host, defaultPort ? "" : ":" + number);
        if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
      }
    }
  }
  return urls;
}

}  // namespace

std::string kname(std::string_view name, std::string_view ns, std::string_view describeNs) {
  if (ns == describeNs || ns.empty()) return std::string(name);
  return fmt::format("{}.{}", name, ns);
}

const core::Resource* destinationRuleFor(const analysis::Snapshot& snapshot, std::string_view host,
                                         std::string_view serviceNs, std::string_view clientNs) {
  std::string domain = analysis::clusterDomainOf(snapshot);
  for (std::string_view ns : {clientNs, serviceNs, std::string_view(snapshot.rootNamespace())})
    if (const core::Resource* dr = bestRuleIn(snapshot, ns, host, clientNs, domain)) return dr;
  return nullptr;
}

void describeTraffic(const analysis::Snapshot& snapshot, const std::vector<Workload>& targets, std::string_view noun,
                     std::string_view describeNs, ServiceSection& section) {
  const ServiceView& svc = section.service;
  std::string domain = analysis::clusterDomainOf(snapshot);
  // What sidecars in the service's own namespace use; other namespaces may pick their own.
  const core::Resource* dr = destinationRuleFor(snapshot, svc.host, svc.namespace_, svc.namespace_);
  if (dr) section.destinationRule = ruleView(*dr, targets);
  std::set<std::string_view> namespaces;
  for (const core::Resource* r : snapshot.all(DestinationRule)) namespaces.insert(r->namespace_());
  for (std::string_view ns : namespaces) {
    if (ns == svc.namespace_ || ns == snapshot.rootNamespace()) continue;
    const core::Resource* theirs = bestRuleIn(snapshot, ns, svc.host, ns, domain);
    if (theirs && theirs != dr && section.destinationRule)
      section.destinationRule->shadowedFor.push_back(kname(theirs->name(), theirs->namespace_(), describeNs));
  }

  RouteTarget target;
  target.host = svc.host;
  target.domain = domain;
  target.destinationRule = section.destinationRule ? &*section.destinationRule : nullptr;
  if (dr) target.destinationRuleName = kname(dr->name(), dr->namespace_(), describeNs);
  target.knownWorkloads = !targets.empty();
  target.noun = std::string(noun);

  analysis::ServiceHostIndex index(snapshot);
  for (const core::Resource* vs : snapshot.all(VirtualService)) {
    if (!vs->spec() || vsHosts(*vs).empty()) continue;  // delegates have no hosts
    bool mesh = meshBound(analysis::stringList(vs->spec()->get("gateways")));
    if (mesh) placementWarnings(index, *vs, svc, describeNs, domain, section.warnings);
    if (!concerns(*vs, svc.host, domain)) continue;
    VirtualServiceView view = virtualServiceView(*vs, target);
    bool viaGateway = std::any_of(view.gateways.begin(), view.gateways.end(), [](const std::string& g) { return g != "mesh"; });
    if (viaGateway && routesToHost(*vs, svc.host, domain)) {
      size_t at = section.gatewayVirtualServices.size();
      for (const std::string& g : view.gateways) {
        if (g == "mesh") continue;
        std::string full = g.find('/') == std::string::npos ? fmt::format("{}/{}", vs->namespace_(), g) : g;
        size_t slash = full.find('/');
        const core::Resource* gw = snapshot.find(Gateway, full.substr(0, slash), full.substr(slash + 1));
        if (!gw) {
          section.ingress.push_back({full, "", at});
          section.warnings.push_back(fmt::format("WARNING: VirtualService {} references non-existent gateway {}",
                                                 kname(vs->name(), vs->namespace_(), describeNs), full));
          continue;
        }
        for (std::string& url : exposedUrls(*gw, *vs)) section.ingress.push_back({full, std::move(url), at});
      }
      section.gatewayVirtualServices.push_back(view);
    }
    if (mesh) section.virtualServices.push_back(std::move(view));
  }
}

}  // namespace mesh::cli::describe
