// What the renderers need, resolved once from the merged IstioOperator: namespaces, names,
// images, labels, and the precedence rules between spec.*, components.*, k8s.* and values.*
// (a component's own setting beats spec.hub/tag, which beat values.global.*). The renderers
// read only this. Immutable once built; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace mesh::install {

using Object = nlohmann::ordered_json;

// The operator.istio.io/component label values, and the -o DIR subdirectories.
inline constexpr std::string_view kBase = "Base";
inline constexpr std::string_view kPilot = "Pilot";
inline constexpr std::string_view kIngressGateways = "IngressGateways";
inline constexpr std::string_view kEgressGateways = "EgressGateways";

// Autoscaling and disruption settings of one Deployment.
struct Scaling {
  int64_t replicas = 1;
  bool autoscale = false;
  int64_t autoscaleMin = 1;
  int64_t autoscaleMax = 5;
  int64_t cpuTarget = 80;
  nlohmann::json hpaMetrics;  // k8s.hpaSpec.metrics when given (replaces the CPU target)
  bool pdb = false;           // render a PodDisruptionBudget
  nlohmann::json pdbSpec;     // k8s.podDisruptionBudget, or {minAvailable: 1}
};

struct MeshdPlan {
  std::string name;  // meshd, or meshd-<revision>
  std::string ns;
  std::string image;
  std::string logLevel;   // meshd --log-level
  std::string configMap;  // "" when values.pilot.configMap is false
  Scaling scaling;
  nlohmann::json k8s;     // components.pilot.k8s
  nlohmann::json values;  // values.pilot
};

struct GatewayPlan {
  std::string_view component;  // kIngressGateways or kEgressGateways
  std::string name;
  std::string ns;
  std::string image;
  nlohmann::json labels;  // app, istio and the gateway's `label` map
  std::string serviceType;
  Scaling scaling;
  nlohmann::json k8s;
};

struct InstallPlan {
  std::string owner;           // install.operator.istio.io/owning-resource
  std::string ns;              // the install namespace
  std::string revision;        // istio.io/rev value ("default" when none)
  std::string revisionSuffix;  // "" or "-<revision>"
  std::string clusterDomain;
  std::string network;
  std::string clusterName;  // values.global.multiCluster.clusterName: meshd's --cluster-id
  nlohmann::json meshConfig;
  std::string imagePullPolicy;
  std::vector<std::string> imagePullSecrets;
  nlohmann::json defaultNodeSelector;
  nlohmann::json defaultTolerations;
  std::string priorityClassName;

  bool base = false;
  std::string baseNs;
  bool readerAccount = false;  // values.global.multiCluster.enabled: the account remote secrets use
  std::optional<MeshdPlan> meshd;
  std::string xdsAddress;  // what gateways dial: meshd's Service, or values.global.remotePilotAddress
  std::vector<GatewayPlan> gateways;

  // The labels every rendered object carries, so uninstall can find what meshctl installed.
  Object labels(std::string_view component) const;
  // apiVersion, kind and metadata (name, namespace unless "", labels) in that order.
  Object object(std::string_view apiVersion, std::string_view kind, const std::string& name, const std::string& ns,
                std::string_view component, const Object& extraLabels = Object::object()) const;
};

Result<InstallPlan> planInstall(const nlohmann::json& iop);

// The value at a dotted path of keys, or nullptr.
const nlohmann::json* findAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys);

}  // namespace mesh::install
