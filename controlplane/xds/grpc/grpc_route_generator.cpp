#include "controlplane/xds/grpc/grpc_generators.h"
#include "controlplane/xds/grpc/grpc_target.h"
#include "controlplane/xds/virtual_host_builder.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::xds {

XdsResources GrpcRouteGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  VirtualServiceSet virtualServices(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh"));
  for (const std::string& name : names.list()) {
    auto target = resolveGrpcTarget(view, name);
    if (!target) continue;
    VirtualHostOptions options;
    options.flavor = RouteFlavor::ProxylessGrpc;
    options.listenPort = target->port->port;
    envoy::config::route::v3::RouteConfiguration rc;
    rc.set_name(name);
    auto* vh = rc.add_virtual_hosts();
    *vh = buildVirtualHost(view, *target->service, *target->port, virtualServices, options);
    // gRPC matches the dial target's authority against the domains: make sure it is there
    // exactly as the client wrote it (a short name included).
    if (std::ranges::find(vh->domains(), name) == vh->domains().end()) vh->add_domains(name);
    out.push_back(XdsResource::of(name, rc));
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
