// Test fixtures for control-plane tests: a ConfigSnapshot from YAML text and proxies with
// Istio-shaped identities. Header-only; tests only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "controlplane/model/config_snapshot.h"
#include "core/loader.h"

namespace mesh::testing {

inline std::shared_ptr<const model::ConfigSnapshot> snapshotFromYaml(std::string_view yaml, uint64_t version = 1) {
  core::LoadOptions options;
  core::LoadResult loaded = core::loadBuffer("test.yaml", yaml, options);
  return model::ConfigSnapshot::build(std::move(loaded.resources), version);
}

inline model::Proxy sidecarProxy(std::string_view name, std::string_view ns, model::Labels labels = {},
                                 std::string_view ip = "127.0.0.1") {
  model::NodeInfo node;
  node.id = fmt::format("sidecar~{}~{}.{}~{}.svc.cluster.local", ip, name, ns, ns);
  node.labels = std::move(labels);
  return *model::Proxy::fromNode(node);
}

inline model::Proxy routerProxy(std::string_view name, std::string_view ns, model::Labels labels = {}) {
  model::NodeInfo node;
  node.id = fmt::format("router~127.0.0.1~{}.{}~{}.svc.cluster.local", name, ns, ns);
  node.labels = std::move(labels);
  return *model::Proxy::fromNode(node);
}

}  // namespace mesh::testing
