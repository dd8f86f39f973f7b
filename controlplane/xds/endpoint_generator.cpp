#include "controlplane/xds/endpoint_generator.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/load_assignment.h"
#include "controlplane/xds/traffic_policy.h"

namespace mesh::xds {
namespace {

// One cluster's assignment as a proxy in this namespace sees it (the DestinationRule lookup
// depends on the namespace).
XdsResources::value_type assignmentFor(const ProxyView& view, const ClusterName& cn, const std::string& name,
                                       bool forGrpc, bool& found) {
  found = false;
  const model::Service* svc = view.snapshot.service(cn.host, view.proxy.namespace_);
  if (!svc || !svc->port(cn.port)) return {};
  found = true;
  const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
  auto eps = view.snapshot.registry().endpoints(*svc, cn.port);
  return XdsResource::of(name, buildLoadAssignment(name, eps, subsetLabels(dr, cn.subset), !forGrpc));
}

}  // namespace

XdsResources EndpointGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  // Every proxy of a scope asks for the same clusters: build their assignments once.
  if (!names.wildcard && names.digest != 0 && view.cache) {
    auto shared = view.shared(fmt::format("eds-set|{}|{}|{:x}", forGrpcClient_ ? "grpc" : "envoy",
                                          view.outboundKey(""), names.digest),
                              [&] { return generateUncached(view, names); });
    return *shared;
  }
  return generateUncached(view, names);
}

XdsResources EndpointGenerator::generateUncached(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  bool found = false;
  if (names.wildcard) {
    for (const model::Service* svc : view.scope.services()) {
      if (svc->resolution != model::Resolution::ClientSideLB) continue;
      const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
      for (const model::ServicePort& port : svc->ports) {
        ClusterName cn{TrafficDirection::Outbound, port.port, "", svc->hostname};
        out.push_back(assignmentFor(view, cn, cn.str(), forGrpcClient_, found));
        for (const core::Node* s : model::items(dr && dr->spec() ? dr->spec()->get("subsets") : nullptr)) {
          cn.subset = std::string(model::text(s, "name"));
          out.push_back(assignmentFor(view, cn, cn.str(), forGrpcClient_, found));
        }
      }
    }
  } else {
    for (const std::string& name : names.names) {
      auto cn = ClusterName::parse(name);
      if (!cn || cn->direction != TrafficDirection::Outbound) continue;
      auto r = assignmentFor(view, *cn, name, forGrpcClient_, found);
      if (found) out.push_back(std::move(r));
    }
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
