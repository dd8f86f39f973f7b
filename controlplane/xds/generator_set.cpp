#include "controlplane/xds/generator_set.h"

#include "controlplane/xds/cluster_generator.h"
#include "controlplane/xds/endpoint_generator.h"
#include "controlplane/xds/grpc/grpc_generators.h"
#include "controlplane/xds/listener_generator.h"
#include "controlplane/xds/route_generator.h"
#include "controlplane/xds/secret_generator.h"

namespace mesh::xds {

void GeneratorSet::add(model::GeneratorKind kind, std::unique_ptr<Generator> generator) {
  std::string type(generator->typeUrl());
  generators_[{kind, std::move(type)}] = std::move(generator);
}

const Generator* GeneratorSet::find(model::GeneratorKind kind, std::string_view typeUrl) const {
  auto it = generators_.find(std::pair(kind, std::string(typeUrl)));
  return it == generators_.end() ? nullptr : it->second.get();
}

GeneratorSet GeneratorSet::standard() {
  GeneratorSet set;
  set.add(model::GeneratorKind::Envoy, std::make_unique<ClusterGenerator>());
  set.add(model::GeneratorKind::Envoy, std::make_unique<EndpointGenerator>(false));
  set.add(model::GeneratorKind::Envoy, std::make_unique<ListenerGenerator>());
  set.add(model::GeneratorKind::Envoy, std::make_unique<RouteGenerator>());
  set.add(model::GeneratorKind::Envoy, std::make_unique<SecretGenerator>());  // gateway credentials
  // Proxyless gRPC (node metadata GENERATOR=grpc).
  set.add(model::GeneratorKind::Grpc, std::make_unique<GrpcListenerGenerator>());
  set.add(model::GeneratorKind::Grpc, std::make_unique<GrpcRouteGenerator>());
  set.add(model::GeneratorKind::Grpc, std::make_unique<GrpcClusterGenerator>());
  set.add(model::GeneratorKind::Grpc, std::make_unique<EndpointGenerator>(true));
  return set;
}

}  // namespace mesh::xds
