#include "controlplane/model/config_snapshot.h"

#include <algorithm>

#include <fmt/format.h>

#include "controlplane/model/gateway_api/convert.h"
#include "controlplane/model/node_values.h"
#include "core/validation/validate.h"

namespace mesh::model {
namespace {

using core::Node;
using core::Resource;

// Kinds whose invalid objects must not reach a proxy. Kubernetes objects (Pods, Services) are
// validated by their API server; the file backend validates them the same way.
bool isMeshConfig(const Resource& r) { return r.info() != nullptr; }

bool exportedTo(const Node* exportTo, std::string_view ownNs, std::string_view proxyNs) {
  auto list = stringList(exportTo);
  if (list.empty()) return true;
  for (const std::string& e : list)
    if (e == "*" || (e == "." && ownNs == proxyNs) || e == proxyNs) return true;
  return false;
}

const Node* selectorLabels(const Resource& r) {
  const Node* spec = r.spec();
  if (!spec) return nullptr;
  if (const Node* ws = spec->get("workloadSelector")) return ws->get("labels");
  if (const Node* sel = spec->get("selector")) return sel->get("matchLabels");
  return nullptr;
}

}  // namespace

SnapshotOptions withMeshConfig(SnapshotOptions options, std::shared_ptr<const MeshConfig> mesh) {
  if (mesh && mesh->rootNamespaceSet) options.rootNamespace = mesh->rootNamespace;
  if (mesh && mesh->trustDomainSet) options.trustDomain = mesh->trustDomain;
  options.meshConfig = std::move(mesh);
  return options;
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern == "*") return true;
  if (pattern.starts_with('*')) return host.ends_with(pattern.substr(1));
  return pattern == host;
}

bool selectorSelects(const Node* matchLabels, const Labels& labels) {
  if (!matchLabels) return true;
  for (const auto& e : matchLabels->entries()) {
    auto it = labels.find(e.key->text());
    if (it == labels.end() || !e.value || it->second != e.value->text()) return false;
  }
  return true;
}

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::build(std::vector<Resource> resources, uint64_t version,
                                                            const SnapshotOptions& options) {
  auto snap = std::make_shared<ConfigSnapshot>();
  snap->version_ = version;
  snap->options_ = options;
  // Validate in parallel slices; drop every object with an error.
  core::Diagnostics findings = core::validateAll(resources);
  std::vector<Resource> kept;
  kept.reserve(resources.size());
  std::map<std::string, core::Diagnostics, std::less<>> byResource;
  for (core::Diagnostic& d : findings)
    if (d.severity == core::Severity::Error && !d.resource.empty()) byResource[d.resource].push_back(std::move(d));
  for (Resource& r : resources) {
    if (isMeshConfig(r)) {
      auto it = byResource.find(r.displayName());
      if (it != byResource.end()) {
        for (core::Diagnostic& d : it->second) snap->skipped_.push_back(std::move(d));
        byResource.erase(it);
        continue;
      }
    }
    kept.push_back(std::move(r));
  }
  // Gateway API objects become Istio Gateways/VirtualServices (istiod's conversion), admitted
  // like user-written config.
  gateway_api::admitConverted(gateway_api::convertGatewayApi(kept, options.domain), kept, snap->skipped_);
  snap->resources_ = std::move(kept);
  snap->registry_ = ServiceRegistry::build(snap->resources_, options.domain);
  for (const Resource& r : snap->resources_)
    snap->byKind_[{std::string(r.group()), std::string(r.kind())}].push_back(&r);
  for (const Resource* dr : snap->ofKind("networking.istio.io", "DestinationRule"))
    if (dr->spec() && dr->spec()->get("workloadSelector")) snap->workloadScopedDrNamespaces_.emplace(dr->namespace_());
  for (auto& [k, list] : snap->byKind_)
    std::ranges::sort(list, [](const Resource* a, const Resource* b) {
      return std::pair(a->namespace_(), a->name()) < std::pair(b->namespace_(), b->name());
    });
  snap->indexDestinationRules();
  for (const Resource* vs : snap->ofKind("networking.istio.io", "VirtualService"))
    for (std::string_view block : {"http", "tcp", "tls"})
      for (const Node* route : items(vs->spec() ? vs->spec()->get(block) : nullptr))
        for (const Node* m : items(route->get("match")))
          snap->sourceLabelRoutes_ = snap->sourceLabelRoutes_ || m->get("sourceLabels") != nullptr;
  snap->namespaceIndependentOutbound_ = snap->computeNamespaceIndependence();
  return snap;
}

std::span<const Resource* const> ConfigSnapshot::ofKind(std::string_view group, std::string_view kind) const {
  auto it = byKind_.find(std::pair(std::string(group), std::string(kind)));
  if (it == byKind_.end()) return {};
  return it->second;
}

std::vector<const Resource*> ConfigSnapshot::virtualServices(std::string_view proxyNs, std::string_view gateway) const {
  std::vector<const Resource*> out;
  for (const Resource* vs : ofKind("networking.istio.io", "VirtualService")) {
    const Node* spec = vs->spec();
    if (!spec || spec->get("hosts") == nullptr || items(spec->get("hosts")).empty()) continue;  // delegates
    if (!exportedTo(spec->get("exportTo"), vs->namespace_(), proxyNs)) continue;
    auto gateways = stringList(spec->get("gateways"));
    bool bound = false;
    if (gateways.empty()) {
      bound = gateway == "mesh";
    } else {
      for (const std::string& g : gateways) {
        // Short gateway names are relative to the VirtualService's namespace.
        std::string full = g == "mesh" || g.find('/') != std::string::npos ? g : std::string(vs->namespace_()) + "/" + g;
        if (full == gateway) bound = true;
      }
    }
    if (bound) out.push_back(vs);
  }
  return out;
}

void ConfigSnapshot::indexDestinationRules() {
  for (const Resource* dr : ofKind("networking.istio.io", "DestinationRule")) {
    std::string_view h = text(dr->spec(), "host");
    std::string host = h.find('.') == std::string_view::npos && !h.starts_with('*')
                           ? fmt::format("{}.{}.svc.{}", h, dr->namespace_(), options_.domain)
                           : std::string(h);
    NamespaceRules& rules = destinationRules_[std::string(dr->namespace_())];
    if (host.starts_with('*')) rules.wildcard.push_back({dr, std::move(host)});
    else rules.exact[host].push_back({dr, host});
  }
}

// The rule in `ns` for `host` that this proxy may use: an exact host first, else the longest
// matching wildcard (the last of equal length).
const Resource* ConfigSnapshot::bestDestinationRule(std::string_view ns, const Proxy& proxy,
                                                    std::string_view host) const {
  auto it = destinationRules_.find(ns);
  if (it == destinationRules_.end()) return nullptr;
  auto applies = [&](const Resource& dr) {
    const Node* spec = dr.spec();
    if (!exportedTo(spec ? spec->get("exportTo") : nullptr, ns, proxy.namespace_)) return false;
    if (const Node* ws = spec ? spec->get("workloadSelector") : nullptr)
      return ns == proxy.namespace_ && selectorSelects(ws->get("labels"), proxy.labels);
    return true;
  };
  if (auto exact = it->second.exact.find(std::string(host)); exact != it->second.exact.end())
    for (const HostedRule& r : exact->second)
      if (applies(*r.rule)) return r.rule;
  const Resource* wildcard = nullptr;
  size_t wildcardLen = 0;
  for (const HostedRule& r : it->second.wildcard)
    if (hostMatches(r.host, host) && r.host.size() >= wildcardLen && applies(*r.rule)) {
      wildcard = r.rule;
      wildcardLen = r.host.size();
    }
  return wildcard;
}

const Resource* ConfigSnapshot::destinationRule(const Proxy& proxy, std::string_view host,
                                                std::string_view serviceNs) const {
  for (std::string_view ns : {std::string_view(proxy.namespace_), serviceNs, std::string_view(options_.rootNamespace)})
    if (const Resource* dr = bestDestinationRule(ns, proxy, host)) return dr;
  return nullptr;
}

bool ConfigSnapshot::computeNamespaceIndependence() const {
  auto unrestricted = [](const Node* exportTo) {
    auto list = stringList(exportTo);
    return list.empty() || std::ranges::find(list, "*") != list.end();
  };
  std::set<std::string_view> hosts;
  for (const auto& svc : registry_.services()) {
    if (!svc->exportTo.empty() && std::ranges::find(svc->exportTo, "*") == svc->exportTo.end()) return false;
    if (!hosts.insert(svc->hostname).second) return false;  // declared in two namespaces
  }
  for (const Resource* dr : ofKind("networking.istio.io", "DestinationRule")) {
    const Node* spec = dr->spec();
    if (!spec || !unrestricted(spec->get("exportTo")) || spec->get("workloadSelector")) return false;
    std::string_view h = text(spec, "host");
    if (h.starts_with('*')) return false;
    std::string host = h.find('.') == std::string_view::npos
                           ? fmt::format("{}.{}.svc.{}", h, dr->namespace_(), options_.domain)
                           : std::string(h);
    for (const Service* svc : registry_.byHost(host))
      if (svc->namespace_ != dr->namespace_()) return false;  // found first from its own namespace only
  }
  for (const Resource* vs : ofKind("networking.istio.io", "VirtualService")) {
    const Node* spec = vs->spec();
    if (spec && !unrestricted(spec->get("exportTo"))) return false;
    for (std::string_view block : {"http", "tcp", "tls"})
      for (const Node* route : items(spec ? spec->get(block) : nullptr))
        for (const Node* m : items(route->get("match")))
          if (m->get("sourceNamespace")) return false;
  }
  return true;
}

const Resource* ConfigSnapshot::sidecarFor(const Proxy& proxy) const {
  const Resource* nsDefault = nullptr;
  const Resource* rootDefault = nullptr;
  for (const Resource* sc : ofKind("networking.istio.io", "Sidecar")) {
    const Node* ws = sc->spec() ? sc->spec()->get("workloadSelector") : nullptr;
    if (sc->namespace_() == proxy.namespace_) {
      if (ws && selectorSelects(ws->get("labels"), proxy.labels)) return sc;
      if (!ws && !nsDefault) nsDefault = sc;
    } else if (sc->namespace_() == options_.rootNamespace && !ws && !rootDefault) {
      rootDefault = sc;
    }
  }
  return nsDefault ? nsDefault : rootDefault;
}

std::vector<const Resource*> ConfigSnapshot::policiesFor(std::string_view group, std::string_view kind,
                                                         const Proxy& proxy) const {
  std::vector<const Resource*> out;
  for (const Resource* p : ofKind(group, kind)) {
    if (p->namespace_() != proxy.namespace_ && p->namespace_() != options_.rootNamespace) continue;
    if (selectorSelects(selectorLabels(*p), proxy.labels)) out.push_back(p);
  }
  return out;
}

}  // namespace mesh::model
