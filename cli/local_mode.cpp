#include "cli/local_mode.h"

#include <fmt/format.h>

namespace mesh::cli {

Error clusterNotSupported(std::string_view command, const local::ClusterConfig& cluster) {
  return Error{ErrorCode::Unavailable,
               fmt::format("a Kubernetes cluster is configured ({}), and `meshctl {}` cannot act on a cluster yet",
                           cluster.where, command),
               fmt::format("pass --local to use the local mesh on this machine instead (meshctl {} --local)",
                           command)};
}

Result<LocalTarget> localTarget(bool localFlag, std::string_view command) {
  local::Environment env = local::Environment::current();
  if (!localFlag) {
    local::ClusterConfig cluster = local::detectCluster(env);
    if (cluster.found) return Failure(clusterNotSupported(command, cluster));
  }
  auto home = local::MeshHome::resolve(env);
  if (!home) return Failure(home.error());
  return LocalTarget{std::move(env), std::move(*home)};
}

}  // namespace mesh::cli
