// What install, verify-install and uninstall share on the cluster path (the non --local one):
// the --kubeconfig/--context/--request-timeout flags and the connection they make (kubectl's
// loading rules, backends/kube/kubeconfig.h), the manifest rendered from -p/-f/--set as
// `manifest generate` renders it, the names istioctl shows for components, and when a live
// object counts as ready. Main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backends/kube/kube_client.h"
#include "core/result.h"
#include "install/manifest.h"
#include "install/operator_config.h"

namespace mesh::cli {

struct ClusterFlags {
  std::string kubeconfig;             // --kubeconfig
  std::string context;                // --context
  std::string requestTimeout = "30s";  // --request-timeout: each API request
};

void addClusterFlags(CLI::App& cmd, ClusterFlags& flags);

// The cluster path is taken unless --local: when --kubeconfig or --context is given, or a
// cluster is configured (local/cluster_detect.h).
bool clusterSelected(bool localFlag, const ClusterFlags& flags);

Result<std::shared_ptr<backends::kube::KubeClient>> connectCluster(const ClusterFlags& flags);

// -p/-r/-f/--set/-d as `manifest generate` takes them.
using ManifestFlags = install::InstallFlags;

struct RenderedManifest {
  std::string profile;
  std::vector<install::ComponentManifest> components;  // in install order
};
Result<RenderedManifest> renderFromFlags(const ManifestFlags& flags);
// A rendered object as the plain JSON the client sends.
nlohmann::json plainJson(const install::Object& object);

// istioctl's name for a component: "Istio core", "meshd", "Ingress gateways", "Egress gateways".
std::string componentTitle(std::string_view component);
// The position of a component in install order (Base first); unknown ones last.
int componentRank(std::string_view component);

std::string objectKind(const nlohmann::json& object);
// "Deployment istio-system/meshd", "CustomResourceDefinition gateways.networking.istio.io".
std::string objectTitle(const nlohmann::json& object);
// The API resource serving the object's apiVersion and kind (discovery).
Result<backends::kube::ApiResource> resourceFor(backends::kube::KubeClient& client, const nlohmann::json& object);

// Whether a live object is ready: a CRD once Established, a Deployment once its ready replicas
// reach spec.replicas at the current generation; any other kind once it exists. nullopt when
// ready, else what it is waiting for ("1 of 2 replicas ready").
std::optional<std::string> notReadyReason(const nlohmann::json& live);
// CRDs and Deployments: the kinds whose readiness takes time.
bool hasReadiness(const nlohmann::json& object);

}  // namespace mesh::cli
