#include "controlplane/xds/endpoint_generator.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/load_assignment.h"
#include "controlplane/xds/traffic_policy.h"

namespace mesh::xds {
namespace {

// One cluster's assignment as a proxy in this namespace sees it (the service and
// DestinationRule lookups depend on the namespace). The assignment itself is a function of the
// service and rule found, so proxies of every namespace that find the same ones share it: at 50
// namespaces that is 50 times fewer assignments built per push.
std::optional<XdsResource> assignmentFor(const ProxyView& view, const ClusterName& cn, const std::string& name,
                                         bool forGrpc) {
  const model::Service* svc = view.snapshot.service(cn.host, view.proxy.namespace_);
  if (!svc || !svc->port(cn.port)) return std::nullopt;
  const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
  auto build = [&] {
    auto eps = view.snapshot.registry().endpoints(*svc, cn.port);
    return XdsResources{XdsResource::of(name, buildLoadAssignment(name, eps, subsetLabels(dr, cn.subset), !forGrpc))};
  };
  if (!view.cache) return build().front();
  auto shared = view.shared(fmt::format("cla|{}|{}|{}|{}", forGrpc ? "grpc" : "envoy", name,
                                        static_cast<const void*>(svc), static_cast<const void*>(dr)),
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
    auto shared = view.shared(key, [&] {
      // After an endpoint-only change the previous push's set differs only in the clusters of
      // hosts whose endpoints changed: rebuild those, keep the rest.
      if (auto before = view.cache->carried(key)) {
        XdsResources patched = *before;
        for (XdsResource& r : patched) {
          auto cn = ClusterName::parse(r.name);
          if (!cn || !view.cache->endpointsChanged(cn->host)) continue;
          auto fresh = assignmentFor(view, *cn, r.name, forGrpcClient_);
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
  if (names.wildcard) {
    for (const model::Service* svc : view.scope.services()) {
      if (svc->resolution != model::Resolution::ClientSideLB) continue;
      const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
      for (const model::ServicePort& port : svc->ports) {
        ClusterName cn{TrafficDirection::Outbound, port.port, "", svc->hostname};
        if (auto r = assignmentFor(view, cn, cn.str(), forGrpcClient_)) out.push_back(std::move(*r));
        for (const core::Node* s : model::items(dr && dr->spec() ? dr->spec()->get("subsets") : nullptr)) {
          cn.subset = std::string(model::text(s, "name"));
          if (auto r = assignmentFor(view, cn, cn.str(), forGrpcClient_)) out.push_back(std::move(*r));
        }
      }
    }
  } else {
    for (const std::string& name : names.list()) {
      auto cn = ClusterName::parse(name);
      if (!cn || cn->direction != TrafficDirection::Outbound) continue;
      if (auto r = assignmentFor(view, *cn, name, forGrpcClient_)) out.push_back(std::move(*r));
    }
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
