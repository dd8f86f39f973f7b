#include "local/debug_probe.h"

#include <grpcpp/grpcpp.h>

#include <fmt/format.h>

#include "meshd/debug/v1/debug.grpc.pb.h"

namespace mesh::local {

Result<DebugVersion> debugApiVersion(const std::string& address, std::chrono::milliseconds timeout) {
  grpc::ChannelArguments args;
  // A private subchannel: nothing cached from another call decides this one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Loopback: an http_proxy in the environment must not route the call elsewhere.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  meshd::debug::v1::VersionInfo info;
  grpc::Status status = meshd::debug::v1::MeshDebug::NewStub(channel)->GetVersion(&ctx, {}, &info);
  if (!status.ok())
    return fail(ErrorCode::Unavailable, fmt::format("GetVersion on {}: {}", address, status.error_message()));
  return DebugVersion{info.version(), info.meshd_instance()};
}

}  // namespace mesh::local
