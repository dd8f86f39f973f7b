// Pilot: meshd, the control plane. Its ServiceAccount, read-only ClusterRole and the Role that
// lets it read remote secrets in its own namespace, the mesh
// config ConfigMap (`istio`, key `mesh`, as Istio lays it out), the Deployment, its Service,
// and a PodDisruptionBudget and HorizontalPodAutoscaler when it can have more than one pod.
#include <fmt/format.h>

#include "install/meshd_access.h"
#include "install/render.h"
#include "install/yaml_emit.h"

namespace mesh::install {
namespace {

constexpr int kXdsPort = 15010;
constexpr int kMonitoringPort = 15014;

Object port(std::string_view name, int number) {
  return Object{{"containerPort", number}, {"name", std::string(name)}, {"protocol", "TCP"}};
}

Object servicePort(std::string_view name, int number) {
  return Object{{"name", std::string(name)}, {"port", number}, {"protocol", "TCP"}, {"targetPort", number}};
}

Object stringMap(const nlohmann::json& values, std::string_view key) {
  const nlohmann::json* m = findAt(values, {key});
  return m && m->is_object() ? Object(*m) : Object::object();
}

}  // namespace

std::vector<Object> renderMeshd(const InstallPlan& plan, const MeshdPlan& m) {
  std::vector<Object> out;
  Object selector{{"app", "meshd"}, {"istio.io/rev", plan.revision}};
  Object labels{{"app", "meshd"}, {"istio", "pilot"}, {"istio.io/rev", plan.revision}};
  const Object podLabels = stringMap(m.values, "podLabels");
  for (const auto& [k, v] : podLabels.items()) labels[k] = v;

  out.push_back(plan.object("v1", "ServiceAccount", m.name, m.ns, kPilot));
  std::string role = fmt::format("meshd-clusterrole{}-{}", plan.revisionSuffix, m.ns);
  Object cr = plan.object("rbac.authorization.k8s.io/v1", "ClusterRole", role, "", kPilot);
  cr["rules"] = meshdReadRules();
  out.push_back(std::move(cr));
  Object crb = plan.object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", role, "", kPilot);
  crb["roleRef"] = Object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}};
  crb["subjects"] = Object::array({Object{{"kind", "ServiceAccount"}, {"name", m.name}, {"namespace", m.ns}}});
  out.push_back(std::move(crb));
  // Remote secrets (multi-primary) and the MeshConfig ConfigMap: meshd's own namespace only,
  // as istiod's Role.
  Object secretRole = plan.object("rbac.authorization.k8s.io/v1", "Role", m.name, m.ns, kPilot);
  secretRole["rules"] = meshdNamespaceRules();
  out.push_back(std::move(secretRole));
  Object secretBinding = plan.object("rbac.authorization.k8s.io/v1", "RoleBinding", m.name, m.ns, kPilot);
  secretBinding["roleRef"] = Object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", m.name}};
  secretBinding["subjects"] =
      Object::array({Object{{"kind", "ServiceAccount"}, {"name", m.name}, {"namespace", m.ns}}});
  out.push_back(std::move(secretBinding));

  Workload w;
  w.name = m.name;
  w.ns = m.ns;
  w.component = kPilot;
  w.labels = labels;
  w.deploymentLabels = stringMap(m.values, "deploymentLabels");
  w.selector = selector;
  w.podAnnotations = Object{{"prometheus.io/port", std::to_string(kMonitoringPort)}, {"prometheus.io/scrape", "true"}};
  const Object podAnnotations = stringMap(m.values, "podAnnotations");
  for (const auto& [k, v] : podAnnotations.items()) w.podAnnotations[k] = v;
  w.serviceAccount = m.name;
  w.nodeSelector = stringMap(m.values, "nodeSelector");
  w.scaling = m.scaling;
  w.k8s = m.k8s;

  Object env = Object::array({fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace")});
  const Object extraEnv = stringMap(m.values, "env");
  for (const auto& [k, v] : extraEnv.items()) env.push_back(Object{{"name", k}, {"value", v}});
  Object mounts = Object::array();
  if (!m.configMap.empty()) {
    mounts.push_back(Object{{"mountPath", "/etc/istio/config"}, {"name", "config-volume"}, {"readOnly", true}});
    w.volumes.push_back(Object{{"configMap", Object{{"name", m.configMap}}}, {"name", "config-volume"}});
  }
  // A plugged-in CA: the `cacerts` Secret if the user made one (optional, so meshd starts
  // without it), where istiod mounts it.
  mounts.push_back(Object{{"mountPath", "/etc/cacerts"}, {"name", "cacerts"}, {"readOnly", true}});
  w.volumes.push_back(Object{{"name", "cacerts"}, {"secret", Object{{"optional", true}, {"secretName", "cacerts"}}}});

  Object container{{"name", "meshd"}, {"image", m.image}};
  container["args"] = Object::array({
      fmt::format("--xds-address=0.0.0.0:{}", kXdsPort),
      fmt::format("--monitoring-address=0.0.0.0:{}", kMonitoringPort),
      "--log-level=" + m.logLevel,
      "--root-namespace=" + plan.meshConfig.value("rootNamespace", plan.ns),
      "--domain=" + plan.clusterDomain,
  });
  // Istio's CLUSTER_ID: remote secrets naming this cluster are skipped (meshd's default is
  // "Kubernetes", as istiod's).
  // The mounted ConfigMap (its name carries the revision), as istiod reads it; kubelet
  // updates the file and meshd re-reads it when its content changes.
  if (!m.configMap.empty()) container["args"].push_back("--meshConfig=/etc/istio/config/mesh");
  if (!plan.clusterName.empty()) container["args"].push_back("--cluster-id=" + plan.clusterName);
  container["ports"] = Object::array({port("grpc-xds", kXdsPort), port("http-monitoring", kMonitoringPort)});
  container["env"] = std::move(env);
  container["readinessProbe"] = Object{{"httpGet", Object{{"path", "/ready"}, {"port", kMonitoringPort}}},
                                       {"initialDelaySeconds", 1},
                                       {"periodSeconds", 3},
                                       {"timeoutSeconds", 5}};
  if (const auto* r = findAt(m.values, {"resources"})) container["resources"] = Object(*r);
  container["securityContext"] = restrictedContainerSecurity();
  container["volumeMounts"] = std::move(mounts);
  w.container = std::move(container);

  if (!m.configMap.empty()) {
    Object cm = plan.object("v1", "ConfigMap", m.configMap, m.ns, kPilot);
    cm["data"] = Object{{"mesh", toYaml(Object(plan.meshConfig))}, {"meshNetworks", "networks: {}\n"}};
    out.push_back(std::move(cm));
  }
  out.push_back(deployment(plan, w));
  Object svc = plan.object("v1", "Service", m.name, m.ns, kPilot, Object{{"app", "meshd"}, {"istio", "pilot"}});
  svc["spec"] = Object{
      {"ports", Object::array({servicePort("grpc-xds", kXdsPort), servicePort("http-monitoring", kMonitoringPort)})},
      {"selector", selector},
      {"type", "ClusterIP"}};
  out.push_back(std::move(svc));
  if (m.scaling.pdb) out.push_back(podDisruptionBudget(plan, w));
  if (m.scaling.autoscale) out.push_back(horizontalPodAutoscaler(plan, w));
  return out;
}

}  // namespace mesh::install
