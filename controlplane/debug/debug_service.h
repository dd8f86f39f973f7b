// DebugService: meshd's debug gRPC API (api/meshd/debug/v1/debug.proto): each connected
// proxy's sync state, an Envoy config dump of what meshd would send it, its generated resources
// by type, the push status, the version, and how far one object's change has reached. Reads the ADS server and the push history and
// changes nothing. Owned by meshd's main; gRPC's sync server calls it from its own threads,
// concurrently.
#pragma once

#include <chrono>
#include <string>

#include "controlplane/debug/push_history.h"
#include "controlplane/server/ads_server.h"
#include "controlplane/xds/generator_set.h"
#include "meshd/debug/v1/debug.grpc.pb.h"

namespace mesh::debug {

namespace v1 = ::meshd::debug::v1;

struct DebugServiceOptions {
  std::string instance;  // this meshd's name in ListProxies and GetVersion (the host name)
  std::chrono::system_clock::time_point startedAt = std::chrono::system_clock::now();
};

class DebugService final : public v1::MeshDebug::Service {
 public:
  DebugService(const server::AdsServer& ads, const xds::GeneratorSet& generators, const PushHistory& history,
               DebugServiceOptions options);

  grpc::Status ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest* request,
                           v1::ListProxiesResponse* response) override;
  grpc::Status GetConfigDump(grpc::ServerContext* context, const v1::GetConfigDumpRequest* request,
                             envoy::admin::v3::ConfigDump* response) override;
  grpc::Status GetGeneratedResources(grpc::ServerContext* context, const v1::GetGeneratedResourcesRequest* request,
                                     v1::GetGeneratedResourcesResponse* response) override;
  grpc::Status GetPushStatus(grpc::ServerContext* context, const v1::GetPushStatusRequest* request,
                             v1::PushStatus* response) override;
  grpc::Status GetVersion(grpc::ServerContext* context, const v1::GetVersionRequest* request,
                          v1::VersionInfo* response) override;
  grpc::Status GetDistribution(grpc::ServerContext* context, const v1::GetDistributionRequest* request,
                               v1::Distribution* response) override;

 private:
  const server::AdsServer& ads_;
  const xds::GeneratorSet& generators_;
  const PushHistory& history_;
  DebugServiceOptions options_;
};

}  // namespace mesh::debug
