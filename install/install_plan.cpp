#include "install/install_plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

namespace mesh::install {
namespace {

// Where images come from when no profile or flag says (default.yaml sets it too).
constexpr std::string_view kDefaultHub = "ghcr.io/meshctl";

std::string stringAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys,
                     std::string fallback = {}) {
  const nlohmann::json* v = findAt(root, keys);
  return v && v->is_string() && !v->get_ref<const std::string&>().empty() ? v->get<std::string>() : fallback;
}

std::optional<int64_t> intAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys) {
  const nlohmann::json* v = findAt(root, keys);
  return v && v->is_number_integer() ? std::optional<int64_t>(v->get<int64_t>()) : std::nullopt;
}

bool boolAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys, bool fallback) {
  const nlohmann::json* v = findAt(root, keys);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

nlohmann::json objectAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys) {
  const nlohmann::json* v = findAt(root, keys);
  return v && v->is_object() ? *v : nlohmann::json::object();
}

// values.global.logging.level is Istio's "scope:level,scope:level"; meshd has one level, the
// default scope's.
Result<std::string> meshdLogLevel(const std::string& setting) {
  std::string level = "info";
  size_t start = 0;
  while (start <= setting.size()) {
    size_t comma = setting.find(',', start);
    std::string item = setting.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t colon = item.find(':');
    if (colon == std::string::npos)
      level = item;
    else if (item.substr(0, colon) == "default")
      level = item.substr(colon + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (level == "debug" || level == "info" || level == "error") return level;
  if (level == "warn" || level == "warning") return std::string("warn");
  if (level == "fatal" || level == "none") return std::string("error");
  return fail(ErrorCode::InvalidInput,
              fmt::format("spec.values.global.logging.level: \"{}\" has no level meshd knows", setting),
              "use default:debug, default:info, default:warn or default:error");
}

// An image: "name" under the hub, or a full reference when it has a slash (as Istio reads
// values.pilot.image).
std::string imageRef(const std::string& hub, const std::string& name, const std::string& tag) {
  if (name.find('/') != std::string::npos) return name;
  return fmt::format("{}/{}:{}", hub, name, tag);
}

// Components Istio has and meshctl has no program for. The ambient profile keeps Istio's shape
// (so `profile dump` and overlays work) and fails to render, naming the field.
struct Unavailable {
  std::string_view name;
  std::string_view why;
};
constexpr Unavailable kUnavailable[] = {
    {"cni",
     "meshctl has no CNI node agent (meshproxy sidecars and gateways need none), so ambient mode is not "
     "available"},
    {"ztunnel", "meshctl has no ztunnel, so ambient mode is not available"},
    {"istiodRemote", "meshctl has no sidecar injector, so there is no injection webhook to point at a remote meshd"},
};

Scaling scalingFor(const nlohmann::json& k8s, const nlohmann::json& values, bool pdbDefault, int64_t replicasDefault,
                   bool autoscaleDefault) {
  Scaling s;
  s.replicas = intAt(k8s, {"replicaCount"}).value_or(intAt(values, {"replicaCount"}).value_or(replicasDefault));
  s.autoscale = boolAt(values, {"autoscaleEnabled"}, autoscaleDefault);
  s.autoscaleMin = intAt(k8s, {"hpaSpec", "minReplicas"}).value_or(intAt(values, {"autoscaleMin"}).value_or(1));
  s.autoscaleMax = intAt(k8s, {"hpaSpec", "maxReplicas"}).value_or(intAt(values, {"autoscaleMax"}).value_or(5));
  s.cpuTarget = intAt(values, {"cpu", "targetAverageUtilization"}).value_or(80);
  if (const auto* m = findAt(k8s, {"hpaSpec", "metrics"}); m && m->is_array() && !m->empty()) s.hpaMetrics = *m;
  // Only when more than one pod can run: a budget of one pod out of one blocks node drains.
  bool several = s.autoscale ? s.autoscaleMax > 1 : s.replicas > 1;
  s.pdb = pdbDefault && several;
  s.pdbSpec = nlohmann::json{{"minAvailable", 1}};
  if (const auto* p = findAt(k8s, {"podDisruptionBudget"}); p && p->is_object() && !p->empty()) {
    s.pdb = true;
    s.pdbSpec = *p;
  }
  return s;
}

// hpaSpec and values.* may each give one bound; together they must still make sense.
Result<void> checkBounds(const Scaling& s, const std::string& hpaPath, const std::string& valuesPath) {
  if (!s.autoscale) return {};
  if (s.autoscaleMin < 1)
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}.minReplicas / {}.autoscaleMin: {} is below 1", hpaPath, valuesPath, s.autoscaleMin));
  if (s.autoscaleMax < s.autoscaleMin)
    return fail(ErrorCode::InvalidInput, fmt::format("{}.maxReplicas / {}.autoscaleMax: {} is below the minimum, {}",
                                                     hpaPath, valuesPath, s.autoscaleMax, s.autoscaleMin));
  return {};
}

}  // namespace

const nlohmann::json* findAt(const nlohmann::json& root, std::initializer_list<std::string_view> keys) {
  const nlohmann::json* node = &root;
  for (std::string_view k : keys) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(k);
    if (it == node->end() || it->is_null()) return nullptr;
    node = &*it;
  }
  return node;
}

Object InstallPlan::labels(std::string_view component) const {
  return Object{{"app.kubernetes.io/managed-by", "meshctl"},
                {"install.operator.istio.io/owning-resource", owner},
                {"install.operator.istio.io/owning-resource-namespace", ns},
                {"istio.io/rev", revision},
                {"operator.istio.io/component", std::string(component)}};
}

Object InstallPlan::object(std::string_view apiVersion, std::string_view kind, const std::string& name,
                           const std::string& objectNs, std::string_view component, const Object& extraLabels) const {
  Object meta{{"name", name}};
  if (!objectNs.empty()) meta["namespace"] = objectNs;
  // Labels sorted by key, as kubectl shows them.
  std::map<std::string, Object> sorted;
  for (const auto& [k, v] : extraLabels.items()) sorted[k] = v;
  const Object common = labels(component);  // range-for would not keep a temporary alive
  for (const auto& [k, v] : common.items()) sorted[k] = v;
  Object l = Object::object();
  for (auto& [k, v] : sorted) l[k] = std::move(v);
  meta["labels"] = std::move(l);
  return Object{{"apiVersion", std::string(apiVersion)}, {"kind", std::string(kind)}, {"metadata", std::move(meta)}};
}

Result<InstallPlan> planInstall(const nlohmann::json& iop) {
  const nlohmann::json& spec = iop.contains("spec") ? iop["spec"] : nlohmann::json::object();
  const nlohmann::json global = objectAt(spec, {"values", "global"});
  InstallPlan plan;
  plan.owner = stringAt(iop, {"metadata", "name"}, "installed-state");
  plan.ns = stringAt(spec, {"namespace"}, stringAt(global, {"istioNamespace"}, "istio-system"));
  std::string rev = stringAt(spec, {"revision"});
  plan.revision = rev.empty() ? "default" : rev;
  plan.revisionSuffix = rev.empty() ? "" : "-" + rev;
  plan.clusterDomain = stringAt(global, {"proxy", "clusterDomain"}, "cluster.local");
  plan.network = stringAt(global, {"network"});
  plan.clusterName = stringAt(global, {"multiCluster", "clusterName"});
  plan.imagePullPolicy = stringAt(global, {"imagePullPolicy"});
  if (const auto* s = findAt(global, {"imagePullSecrets"}); s && s->is_array())
    for (const auto& name : *s) plan.imagePullSecrets.push_back(name.get<std::string>());
  plan.defaultNodeSelector = objectAt(global, {"defaultNodeSelector"});
  if (const auto* t = findAt(global, {"defaultTolerations"}); t && t->is_array()) plan.defaultTolerations = *t;
  plan.priorityClassName = stringAt(global, {"priorityClassName"});
  bool pdbDefault = boolAt(global, {"defaultPodDisruptionBudget", "enabled"}, true);

  std::string hub = stringAt(spec, {"hub"}, stringAt(global, {"hub"}, std::string(kDefaultHub)));
  std::string tag = stringAt(spec, {"tag"}, stringAt(global, {"tag"}));
  const nlohmann::json components = objectAt(spec, {"components"});
  std::vector<std::string> unavailable, fixes;
  for (const auto& u : kUnavailable) {
    if (!boolAt(components, {u.name, "enabled"}, false)) continue;
    unavailable.push_back(fmt::format("spec.components.{}.enabled: {}", u.name, u.why));
    fixes.push_back(fmt::format("--set components.{}.enabled=false", u.name));
  }
  if (!unavailable.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("{}", fmt::join(unavailable, "\n")),
                fmt::format("{}, or pick a profile without them", fmt::join(fixes, " ")));

  const nlohmann::json baseComponent = objectAt(components, {"base"});
  plan.base = boolAt(baseComponent, {"enabled"}, false);
  plan.baseNs = stringAt(baseComponent, {"namespace"}, plan.ns);
  plan.readerAccount = plan.base && boolAt(global, {"multiCluster", "enabled"}, false);

  const nlohmann::json pilot = objectAt(components, {"pilot"});
  const nlohmann::json pilotValues = objectAt(spec, {"values", "pilot"});
  std::string meshdNs = stringAt(pilot, {"namespace"}, plan.ns);
  std::string meshdName = "meshd" + plan.revisionSuffix;
  if (boolAt(pilot, {"enabled"}, false)) {
    MeshdPlan m;
    m.name = meshdName;
    m.ns = meshdNs;
    m.image = imageRef(stringAt(pilot, {"hub"}, hub), stringAt(pilotValues, {"image"}, "meshd"),
                       stringAt(pilot, {"tag"}, tag));
    auto level = meshdLogLevel(stringAt(global, {"logging", "level"}, "default:info"));
    if (!level) return Failure(level.error());
    m.logLevel = *level;
    if (boolAt(pilotValues, {"configMap"}, true)) m.configMap = "istio" + plan.revisionSuffix;
    m.k8s = objectAt(pilot, {"k8s"});
    m.values = pilotValues;
    m.scaling = scalingFor(m.k8s, pilotValues, pdbDefault, 1, false);
    if (auto ok = checkBounds(m.scaling, "components.pilot.k8s.hpaSpec", "values.pilot"); !ok)
      return Failure(ok.error());
    plan.meshd = std::move(m);
  }
  std::string remote = stringAt(global, {"remotePilotAddress"});
  if (!remote.empty())
    plan.xdsAddress = remote.find(':') == std::string::npos ? remote + ":15010" : remote;
  else
    plan.xdsAddress = fmt::format("{}.{}.svc:15010", meshdName, meshdNs);

  plan.meshConfig = objectAt(spec, {"meshConfig"});
  if (!plan.meshConfig.contains("rootNamespace")) plan.meshConfig["rootNamespace"] = plan.ns;
  if (!plan.meshConfig.contains("trustDomain")) plan.meshConfig["trustDomain"] = plan.clusterDomain;
  if (!findAt(plan.meshConfig, {"defaultConfig", "discoveryAddress"}))
    plan.meshConfig["defaultConfig"]["discoveryAddress"] = plan.xdsAddress;

  const nlohmann::json gatewayValues = objectAt(spec, {"values", "gateways"});
  for (auto [list, component] : {std::pair<const char*, std::string_view>{"ingressGateways", kIngressGateways},
                                 std::pair<const char*, std::string_view>{"egressGateways", kEgressGateways}}) {
    const nlohmann::json* gws = findAt(components, {list});
    if (!gws || !gws->is_array()) continue;
    for (const auto& gw : *gws) {
      if (!boolAt(gw, {"enabled"}, false)) continue;
      GatewayPlan g;
      g.component = component;
      g.name = stringAt(gw, {"name"});
      g.ns = stringAt(gw, {"namespace"}, plan.ns);
      g.image = imageRef(stringAt(gw, {"hub"}, hub), "meshproxy", stringAt(gw, {"tag"}, tag));
      // Istio's gateway labels: app is the name, istio the name without "istio-"; Gateway
      // resources select on `istio: ingressgateway`.
      std::string istioLabel = g.name.starts_with("istio-") ? g.name.substr(6) : g.name;
      g.labels = nlohmann::json{{"app", g.name}, {"istio", istioLabel}};
      const nlohmann::json extra = objectAt(gw, {"label"});
      for (const auto& [k, v] : extra.items()) g.labels[k] = v;
      g.k8s = objectAt(gw, {"k8s"});
      const nlohmann::json values = objectAt(gatewayValues, {g.name});
      bool ingress = component == kIngressGateways;
      g.serviceType =
          stringAt(g.k8s, {"service", "type"}, stringAt(values, {"type"}, ingress ? "LoadBalancer" : "ClusterIP"));
      g.scaling = scalingFor(g.k8s, values, pdbDefault, 1, false);
      if (auto ok = checkBounds(g.scaling, fmt::format("components.{}[name:{}].k8s.hpaSpec", list, g.name),
                                fmt::format("values.gateways.{}", g.name));
          !ok)
        return Failure(ok.error());
      plan.gateways.push_back(std::move(g));
    }
  }
  return plan;
}

}  // namespace mesh::install
