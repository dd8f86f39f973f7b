#include "cli/cluster_target.h"

#include <fmt/format.h>

#include "core/validation/duration.h"
#include "install/operator_config.h"
#include "local/cluster_detect.h"
#include "local/environment.h"

namespace mesh::cli {

namespace kube = backends::kube;

void addClusterFlags(CLI::App& cmd, ClusterFlags& flags) {
  cmd.add_option("--kubeconfig", flags.kubeconfig, "kubeconfig file (cluster only; default: $KUBECONFIG, ~/.kube/config)")
      ->type_name("PATH");
  cmd.add_option("--context", flags.context, "kubeconfig context to use (cluster only)");
  cmd.add_option("--request-timeout", flags.requestTimeout, "How long each request to the API server may take")
      ->capture_default_str()
      ->type_name("DURATION");
}

bool clusterSelected(bool localFlag, const ClusterFlags& flags) {
  if (localFlag) return false;
  if (!flags.kubeconfig.empty() || !flags.context.empty()) return true;
  return local::detectCluster(local::Environment::current()).found;
}

Result<std::shared_ptr<kube::KubeClient>> connectCluster(const ClusterFlags& flags) {
  std::string why;
  auto timeout = core::validation::parseDuration(flags.requestTimeout, &why);
  if (!timeout || *timeout <= 0)
    return fail(ErrorCode::Usage,
                fmt::format("--request-timeout {}: {}", flags.requestTimeout, timeout ? "must be more than 0" : why),
                "use a duration such as 30s or 1m");
  auto options = kube::KubeConfigOptions::fromEnvironment();
  options.explicitPath = flags.kubeconfig;
  options.context = flags.context;
  auto config = kube::loadRestConfig(options);
  if (!config) {
    Error e = config.error();
    e.hint = e.hint.empty() ? std::string("pass --local to use the local mesh on this machine instead")
                            : e.hint + "; or pass --local to use the local mesh on this machine instead";
    return core::failWith(std::move(e));
  }
  kube::RestClientOptions rest;
  rest.requestTimeout = std::chrono::milliseconds(*timeout / 1000000);
  rest.connectTimeout = std::min(rest.connectTimeout, rest.requestTimeout);
  return kube::KubeClient::create(std::move(*config), rest);
}

nlohmann::json plainJson(const install::Object& object) { return nlohmann::json::parse(object.dump()); }

Result<RenderedManifest> renderFromFlags(const ManifestFlags& flags) {
  auto iop = install::buildOperator(flags);
  if (!iop) return core::failWith(iop.error());
  auto components = install::renderManifests(*iop);
  if (!components) return core::failWith(components.error());
  const auto spec = (*iop).value("spec", nlohmann::json::object());
  return RenderedManifest{spec.value("profile", "default"), std::move(*components)};
}

std::string componentTitle(std::string_view component) {
  if (component == install::kBase) return "Istio core";
  if (component == install::kPilot) return "meshd";
  if (component == install::kIngressGateways) return "Ingress gateways";
  if (component == install::kEgressGateways) return "Egress gateways";
  return std::string(component);
}

int componentRank(std::string_view component) {
  if (component == install::kBase) return 0;
  if (component == install::kPilot) return 1;
  if (component == install::kIngressGateways) return 2;
  if (component == install::kEgressGateways) return 3;
  return 4;
}

std::string objectKind(const nlohmann::json& object) { return object.value("kind", ""); }

std::string objectTitle(const nlohmann::json& object) {
  std::string ns = kube::metadataString(object, "namespace");
  std::string name = kube::metadataString(object, "name");
  return fmt::format("{} {}{}", objectKind(object), ns.empty() ? "" : ns + "/", name);
}

Result<kube::ApiResource> resourceFor(kube::KubeClient& client, const nlohmann::json& object) {
  std::string apiVersion = object.value("apiVersion", "");
  std::string group, version = apiVersion;
  if (size_t slash = apiVersion.find('/'); slash != std::string::npos) {
    group = apiVersion.substr(0, slash);
    version = apiVersion.substr(slash + 1);
  }
  return client.discovery().resolve(core::GroupKind{group, objectKind(object)}, version);
}

namespace {

int64_t intAt(const nlohmann::json& j, std::string_view a, std::string_view b, int64_t fallback) {
  if (!j.is_object() || !j.contains(a) || !j[std::string(a)].is_object()) return fallback;
  const auto& inner = j[std::string(a)];
  auto it = inner.find(std::string(b));
  return it != inner.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

}  // namespace

std::optional<std::string> notReadyReason(const nlohmann::json& live) {
  const std::string kind = objectKind(live);
  if (kind == "CustomResourceDefinition") {
    const auto status = live.value("status", nlohmann::json::object());
    for (const auto& c : status.value("conditions", nlohmann::json::array()))
      if (c.value("type", "") == "Established") {
        if (c.value("status", "") == "True") return std::nullopt;
        return fmt::format("not Established: {}", c.value("message", c.value("reason", "no reason given")));
      }
    return std::string("not Established yet");
  }
  if (kind == "Deployment") {
    const int64_t generation = intAt(live, "metadata", "generation", 0);
    const int64_t observed = intAt(live, "status", "observedGeneration", 0);
    const int64_t wanted = intAt(live, "spec", "replicas", 1);
    const int64_t ready = intAt(live, "status", "readyReplicas", 0);
    if (observed < generation)
      return fmt::format("the controller has not seen generation {} yet (observed {})", generation, observed);
    if (ready < wanted) return fmt::format("{} of {} replicas ready", ready, wanted);
  }
  return std::nullopt;
}

bool hasReadiness(const nlohmann::json& object) {
  const std::string kind = objectKind(object);
  return kind == "CustomResourceDefinition" || kind == "Deployment";
}

}  // namespace mesh::cli
