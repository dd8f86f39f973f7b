#include "local/cluster_detect.h"

#include <fmt/format.h>

#include <system_error>

namespace mesh::local {
namespace fs = std::filesystem;
namespace {

// kubectl skips kubeconfig files that do not exist; an empty one configures nothing either.
bool nonEmptyFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && fs::file_size(path, ec) > 0 && !ec;
}

}  // namespace

ClusterConfig detectCluster(const Environment& env) {
  // In a pod, client-go's in-cluster config wins over nothing; it needs only this variable
  // (and the mounted token, which a pod without one would fail on loudly anyway).
  if (auto host = env.get("KUBERNETES_SERVICE_HOST"); host && !host->empty())
    return {true, fmt::format("in-cluster config (KUBERNETES_SERVICE_HOST={})", *host)};
  // KUBECONFIG, when set and non-empty, replaces ~/.kube/config (as kubectl reads it): a list of
  // files separated by ':'.
  if (auto list = env.get("KUBECONFIG"); list && !list->empty()) {
    size_t start = 0;
    while (start <= list->size()) {
      size_t colon = list->find(':', start);
      std::string file = list->substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!file.empty() && nonEmptyFile(file)) return {true, fmt::format("KUBECONFIG={}", file)};
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return {};
  }
  if (!env.homeDir.empty()) {
    fs::path config = env.homeDir / ".kube" / "config";
    if (nonEmptyFile(config)) return {true, config.string()};
  }
  return {};
}

}  // namespace mesh::local
