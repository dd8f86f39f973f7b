#include "cli/live_config.h"

#include <fmt/format.h>

#include "backends/kube/kube_store.h"
#include "core/kinds.h"
#include "core/loader.h"
#include "local/cluster_detect.h"
#include "local/mesh_home.h"

namespace mesh::cli {
namespace {

Result<LiveConfig> fromCluster(const LiveConfigOptions& options) {
  auto config = backends::kube::KubeConfigOptions::fromEnvironment();
  config.explicitPath = options.kubeconfig;
  config.context = options.context;
  backends::kube::KubeStoreOptions storeOptions;
  storeOptions.readOnly = true;
  for (const core::KindInfo& k : core::allKinds()) storeOptions.kinds.push_back({std::string(k.group), std::string(k.kind)});
  auto store = backends::kube::KubeStore::connect(config, storeOptions);
  if (!store) return core::failWith(store.error());
  auto listed = (*store)->list();
  if (!listed) return core::failWith(listed.error());
  LiveConfig out;
  out.source = (*store)->describe();
  for (auto& item : *listed) out.resources.push_back(std::move(item.resource));
  return out;
}

Result<LiveConfig> fromLocalMesh(const local::MeshHome& home) {
  core::LoadOptions load;
  load.recursive = true;
  auto loaded = core::loadPaths({home.configDir().string()}, load);
  if (!loaded.diagnostics.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("the local mesh's config: {}", loaded.diagnostics.front().format()),
                "fix or delete that file (meshctl delete --local -f)");
  return LiveConfig{fmt::format("local mesh {}", home.root().string()), std::move(loaded.resources)};
}

}  // namespace

Result<LiveConfig> loadLiveConfig(const LiveConfigOptions& options) {
  local::Environment env = local::Environment::current();
  bool clusterAsked = !options.kubeconfig.empty() || !options.context.empty();
  if (!options.local && (clusterAsked || local::detectCluster(env).found)) return fromCluster(options);
  auto home = local::MeshHome::resolve(env);
  if (!home) return core::failWith(home.error());
  if (home->exists() && std::filesystem::is_directory(home->configDir())) return fromLocalMesh(*home);
  if (options.local)
    return fail(ErrorCode::NotFound, fmt::format("no local mesh at {}", home->root().string()),
                "install one with `meshctl install --local`, or pass --use-kube=false");
  return LiveConfig{};  // nothing live is configured: files only
}

}  // namespace mesh::cli
