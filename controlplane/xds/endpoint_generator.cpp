#include "controlplane/xds/endpoint_generator.h"

#include <optional>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/load_assignment.h"
#include "controlplane/xds/locality_lb.h"
#include "controlplane/xds/traffic_policy.h"

namespace mesh::xds {
namespace {

// Which DestinationRules can make an assignment depend on the proxy (locality LB): any with
// outlier detection (the mesh default turns failover on) or `distribute`, at any level. Only
// when one exists do per-subscription results get keyed by the proxy's locality.
struct SnapshotLocalityLb {
  bool any = false;
  std::vector<std::string> priorityLabels;  // every failoverPriority label named, sorted
};

SnapshotLocalityLb scanLocalityLb(const model::ConfigSnapshot& snapshot) {
  SnapshotLocalityLb out;
  std::set<std::string> labels;
  auto policy = [&](const core::Node* p) {
    if (!p) return;
    if (p->get("outlierDetection")) out.any = true;
    const core::Node* lb = p->get("loadBalancer");
    const core::Node* setting = lb ? lb->get("localityLbSetting") : nullptr;
    if (!setting) return;
    if (!model::items(setting->get("distribute")).empty()) out.any = true;
    for (const std::string& entry : model::stringList(setting->get("failoverPriority")))
      if (entry.find('=') == std::string::npos) labels.insert(entry);
  };
  auto withPorts = [&](const core::Node* p) {
    policy(p);
    for (const core::Node* pls : model::items(p ? p->get("portLevelSettings") : nullptr)) policy(pls);
  };
  for (const core::Resource* dr : snapshot.ofKind("networking.istio.io", "DestinationRule")) {
    if (!dr->spec()) continue;
    withPorts(dr->spec()->get("trafficPolicy"));
    for (const core::Node* s : model::items(dr->spec()->get("subsets"))) withPorts(s->get("trafficPolicy"));
  }
  out.priorityLabels.assign(labels.begin(), labels.end());
  return out;
}

// Per-snapshot facts shared by every proxy, memoized in the GenerationCache when there is one.
template <class T>
std::shared_ptr<const T> perSnapshot(const ProxyView& view, const std::string& key, const std::function<T()>& build) {
  if (view.cache) return view.cache->memo<T>(key, build);
  return std::make_shared<const T>(build());
}

// The proxy as locality load balancing sees it, found on first use.
class ProxyLocality {
 public:
  explicit ProxyLocality(const ProxyView& view) : view_(view) {}
  const LocalityLbProxy& get() {
    if (!proxy_) {
      auto localities = perSnapshot<model::WorkloadLocalities>(
          view_, "workload-localities", [&] { return model::WorkloadLocalities::build(view_.snapshot); });
      proxy_ = LocalityLbProxy{localities->proxyLocality(view_.proxy), &view_.proxy.labels};
    }
    return *proxy_;
  }

 private:
  const ProxyView& view_;
  std::optional<LocalityLbProxy> proxy_;
};

// One cluster's assignment as a proxy in this namespace sees it (the service and
// DestinationRule lookups depend on the namespace). The assignment itself is a function of the
// service and rule found, so proxies of every namespace that find the same ones share it: at 50
// namespaces that is 50 times fewer assignments built per push. Locality load balancing makes
// it depend on the proxy's locality too, and then only proxies of one locality share it.
std::optional<XdsResource> assignmentFor(const ProxyView& view, const ClusterName& cn, const std::string& name,
                                         bool forGrpc, ProxyLocality& locality) {
  const model::Service* svc = view.snapshot.service(cn.host, view.proxy.namespace_);
  if (!svc || !svc->port(cn.port)) return std::nullopt;
  const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
  LocalityLbPolicy lb =
      localityLbPolicy(effectivePolicy(dr, cn.port, cn.subset), view.snapshot.meshConfig().localityLbSetting);
  const LocalityLbProxy* proxy = lb.dependsOnProxy() ? &locality.get() : nullptr;
  auto build = [&] {
    auto eps = view.snapshot.registry().endpoints(*svc, cn.port);
    std::vector<std::vector<const model::Endpoint*>> groups;
    auto cla = buildLoadAssignment(name, eps, subsetLabels(dr, cn.subset), !forGrpc, proxy ? &groups : nullptr);
    if (proxy) applyLocalityLoadBalancer(cla, groups, *proxy, lb);
    return XdsResources{XdsResource::of(name, cla)};
  };
  if (!view.cache) return build().front();
  auto shared = view.shared(fmt::format("cla|{}|{}|{}|{}{}{}", forGrpc ? "grpc" : "envoy", name,
                                        static_cast<const void*>(svc), static_cast<const void*>(dr),
                                        proxy ? "|" : "", proxy ? localityLbKey(lb, *proxy) : ""),
                            build);
  return shared->front();
}

}  // namespace

XdsResources EndpointGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  return *generateShared(view, names).resources;
}

GeneratedResources EndpointGenerator::generateShared(const ProxyView& view, const ResourceNames& names) const {
  // Every proxy of a scope asks for the same clusters: build their assignments once.
  if (!names.wildcard && names.digest != 0 && view.cache) {
    std::string key = fmt::format("{}{}|{}|{:x}", kSetKeyPrefix, forGrpcClient_ ? "grpc" : "envoy",
                                  view.outboundKey(""), names.digest);
    ProxyLocality locality(view);
    auto localityLb =
        perSnapshot<SnapshotLocalityLb>(view, "locality-lb", [&] { return scanLocalityLb(view.snapshot); });
    if (localityLb->any) {
      // Some assignment may differ by locality: share the set only within one locality (and
      // one set of failoverPriority label values).
      const LocalityLbProxy& proxy = locality.get();
      key += fmt::format("|loc={}/{}/{}", proxy.locality.region, proxy.locality.zone, proxy.locality.subzone);
      for (const std::string& label : localityLb->priorityLabels)
        key += fmt::format("|{}={}", label, proxy.label(label));
    }
    auto shared = view.shared(key, [&] {
      // After an endpoint-only change the previous push's set differs only in the clusters of
      // hosts whose endpoints changed: rebuild those, keep the rest.
      if (auto before = view.cache->carried(key)) {
        XdsResources patched = *before;
        for (XdsResource& r : patched) {
          auto cn = ClusterName::parse(r.name);
          if (!cn || !view.cache->endpointsChanged(cn->host)) continue;
          auto fresh = assignmentFor(view, *cn, r.name, forGrpcClient_, locality);
          if (!fresh) return generateUncached(view, names);  // the service went: start over
          r = std::move(*fresh);
        }
        return patched;
      }
      return generateUncached(view, names);
    });
    return {std::move(shared), true};
  }
  return {std::make_shared<const XdsResources>(generateUncached(view, names)), false};
}

XdsResources EndpointGenerator::generateUncached(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  ProxyLocality locality(view);
  if (names.wildcard) {
    for (const model::Service* svc : view.scope.services()) {
      if (svc->resolution != model::Resolution::ClientSideLB) continue;
      const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
      for (const model::ServicePort& port : svc->ports) {
        ClusterName cn{TrafficDirection::Outbound, port.port, "", svc->hostname};
        if (auto r = assignmentFor(view, cn, cn.str(), forGrpcClient_, locality)) out.push_back(std::move(*r));
        for (const core::Node* s : model::items(dr && dr->spec() ? dr->spec()->get("subsets") : nullptr)) {
          cn.subset = std::string(model::text(s, "name"));
          if (auto r = assignmentFor(view, cn, cn.str(), forGrpcClient_, locality)) out.push_back(std::move(*r));
        }
      }
    }
  } else {
    for (const std::string& name : names.list()) {
      auto cn = ClusterName::parse(name);
      if (!cn || cn->direction != TrafficDirection::Outbound) continue;
      if (auto r = assignmentFor(view, *cn, name, forGrpcClient_, locality)) out.push_back(std::move(*r));
    }
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
