#include "controlplane/model/gateway_api/convert.h"

#include <algorithm>
#include <set>

#include "controlplane/model/gateway_api/context.h"
#include "core/validation/validate.h"

namespace mesh::model::gateway_api {
namespace {

Inputs sortInputs(std::span<const core::Resource> resources) {
  Inputs in;
  for (const core::Resource& r : resources) {
    std::string_view group = r.group(), kind = r.kind();
    if (group == kGatewayGroup) {
      if (kind == "GatewayClass") in.gatewayClasses.push_back(&r);
      else if (kind == "Gateway") in.gateways.push_back(&r);
      else if (kind == "HTTPRoute") in.httpRoutes.push_back(&r);
      else if (kind == "GRPCRoute") in.grpcRoutes.push_back(&r);
      else if (kind == "TCPRoute") in.tcpRoutes.push_back(&r);
      else if (kind == "TLSRoute") in.tlsRoutes.push_back(&r);
      else if (kind == "ReferenceGrant") in.referenceGrants.push_back(&r);
    } else if (group.empty() && kind == "Service") {
      in.services.push_back(&r);
    } else if (group.empty() && kind == "Namespace") {
      in.namespaces.push_back(&r);
    } else if (group == "networking.istio.io" && kind == "ServiceEntry") {
      in.serviceEntries.push_back(&r);
    }
  }
  // Input order must not matter: everything is converted by namespace and name.
  auto byName = [](const core::Resource* a, const core::Resource* b) {
    return std::pair(a->namespace_(), a->name()) < std::pair(b->namespace_(), b->name());
  };
  for (auto* list : {&in.gatewayClasses, &in.gateways, &in.httpRoutes, &in.grpcRoutes, &in.tcpRoutes, &in.tlsRoutes,
                     &in.referenceGrants, &in.services, &in.serviceEntries, &in.namespaces})
    std::ranges::stable_sort(*list, byName);
  return in;
}

}  // namespace

Conversion convertGatewayApi(std::span<const core::Resource> resources, std::string_view domain) {
  Inputs in = sortInputs(resources);
  // Objects without a spec map cannot be read; validation has reported them already.
  for (auto* list : {&in.gateways, &in.httpRoutes, &in.grpcRoutes, &in.tcpRoutes, &in.tlsRoutes})
    std::erase_if(*list, [](const core::Resource* r) { return !r->spec() || !r->spec()->isMapping(); });
  Conversion out;
  if (in.gateways.empty() && in.httpRoutes.empty() && in.grpcRoutes.empty() && in.tcpRoutes.empty() &&
      in.tlsRoutes.empty())
    return out;
  Context ctx(in, domain);
  convertGateways(ctx);
  convertHttpRoutes(ctx);
  convertL4Routes(ctx);
  out.resources = ctx.takeOutput();
  out.diagnostics = ctx.takeDiagnostics();
  return out;
}

void admitConverted(Conversion converted, std::vector<core::Resource>& kept, core::Diagnostics& skipped) {
  std::set<std::string, std::less<>> rejected;
  for (core::Diagnostic& d : core::validateAll(converted.resources)) {
    if (d.severity != core::Severity::Error) continue;
    rejected.insert(d.resource);
    skipped.push_back(std::move(d));
  }
  for (core::Resource& r : converted.resources)
    if (!rejected.contains(r.displayName())) kept.push_back(std::move(r));
  for (core::Diagnostic& d : converted.diagnostics) skipped.push_back(std::move(d));
}

}  // namespace mesh::model::gateway_api
