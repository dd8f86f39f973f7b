#include <algorithm>

#include "install/render.h"

namespace mesh::install {
namespace {

const nlohmann::json* k8sField(const nlohmann::json& k8s, std::string_view key) { return findAt(k8s, {key}); }

// Base entries, then the user's; a user entry with the same name replaces the base one.
Object mergeNamed(const Object& base, const nlohmann::json* extra) {
  Object out = base.is_array() ? base : Object::array();
  if (!extra || !extra->is_array()) return out;
  for (const auto& item : *extra) {
    Object o(item);
    auto same = std::find_if(out.begin(), out.end(), [&](const Object& e) {
      return e.contains("name") && o.contains("name") && e["name"] == o["name"];
    });
    if (same != out.end())
      *same = std::move(o);
    else
      out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Object restrictedPodSecurity() {
  return Object{{"fsGroup", 1337},
                {"runAsGroup", 1337},
                {"runAsNonRoot", true},
                {"runAsUser", 1337},
                {"seccompProfile", Object{{"type", "RuntimeDefault"}}}};
}

Object restrictedContainerSecurity() {
  return Object{{"allowPrivilegeEscalation", false},
                {"capabilities", Object{{"drop", Object::array({"ALL"})}}},
                {"privileged", false},
                {"readOnlyRootFilesystem", true},
                {"runAsNonRoot", true}};
}

Object fieldEnv(std::string_view name, std::string_view fieldPath) {
  return Object{
      {"name", std::string(name)},
      {"valueFrom", Object{{"fieldRef", Object{{"apiVersion", "v1"}, {"fieldPath", std::string(fieldPath)}}}}}};
}

Object deployment(const InstallPlan& plan, const Workload& w) {
  const nlohmann::json& k8s = w.k8s;
  Object container = w.container;
  std::string pullPolicy = plan.imagePullPolicy;
  if (const auto* p = k8sField(k8s, "imagePullPolicy")) pullPolicy = p->get<std::string>();
  if (!pullPolicy.empty()) container["imagePullPolicy"] = pullPolicy;
  container["env"] = mergeNamed(container.value("env", Object::array()), k8sField(k8s, "env"));
  if (const auto* probe = k8sField(k8s, "readinessProbe")) container["readinessProbe"] = Object(*probe);
  if (const auto* r = k8sField(k8s, "resources")) container["resources"] = Object(*r);
  Object mounts = mergeNamed(container.value("volumeMounts", Object::array()), k8sField(k8s, "volumeMounts"));
  if (!mounts.empty())
    container["volumeMounts"] = std::move(mounts);
  else
    container.erase("volumeMounts");

  // The order `kubectl get -o yaml` readers expect; anything else after.
  Object ordered = Object::object();
  for (const char* key : {"name", "image", "imagePullPolicy", "args", "ports", "env", "readinessProbe", "resources",
                          "securityContext", "volumeMounts"})
    if (container.contains(key)) ordered[key] = container[key];
  for (const auto& [k, v] : container.items())
    if (!ordered.contains(k)) ordered[k] = v;
  container = std::move(ordered);

  Object annotations = w.podAnnotations;
  if (const auto* a = k8sField(k8s, "podAnnotations"))
    for (const auto& [k, v] : a->items()) annotations[k] = v;

  Object pod = Object::object();
  pod["serviceAccountName"] = w.serviceAccount;
  if (!w.mountToken) pod["automountServiceAccountToken"] = false;
  pod["securityContext"] =
      k8sField(k8s, "securityContext") ? Object(*k8sField(k8s, "securityContext")) : restrictedPodSecurity();
  std::string priority = plan.priorityClassName;
  if (const auto* p = k8sField(k8s, "priorityClassName")) priority = p->get<std::string>();
  if (!priority.empty()) pod["priorityClassName"] = priority;
  Object nodeSelector = !w.nodeSelector.empty() ? w.nodeSelector : Object(plan.defaultNodeSelector);
  if (const auto* n = k8sField(k8s, "nodeSelector")) nodeSelector = Object(*n);
  if (!nodeSelector.empty()) pod["nodeSelector"] = std::move(nodeSelector);
  if (const auto* t = k8sField(k8s, "tolerations"))
    pod["tolerations"] = Object(*t);
  else if (plan.defaultTolerations.is_array() && !plan.defaultTolerations.empty())
    pod["tolerations"] = Object(plan.defaultTolerations);
  if (const auto* a = k8sField(k8s, "affinity")) pod["affinity"] = Object(*a);
  if (!plan.imagePullSecrets.empty()) {
    Object secrets = Object::array();
    for (const auto& s : plan.imagePullSecrets) secrets.push_back(Object{{"name", s}});
    pod["imagePullSecrets"] = std::move(secrets);
  }
  pod["containers"] = Object::array({std::move(container)});
  Object volumes = mergeNamed(w.volumes, k8sField(k8s, "volumes"));
  if (!volumes.empty()) pod["volumes"] = std::move(volumes);

  Object podMeta{{"labels", w.labels}};
  if (!annotations.empty()) podMeta["annotations"] = std::move(annotations);

  Object spec = Object::object();
  // An autoscaled Deployment leaves replicas to the HorizontalPodAutoscaler, so re-applying
  // the manifest does not reset it.
  if (!w.scaling.autoscale) spec["replicas"] = w.scaling.replicas;
  spec["selector"] = Object{{"matchLabels", w.selector}};
  if (const auto* s = k8sField(k8s, "strategy"))
    spec["strategy"] = Object(*s);
  else
    spec["strategy"] =
        Object{{"rollingUpdate", Object{{"maxSurge", "100%"}, {"maxUnavailable", "25%"}}}, {"type", "RollingUpdate"}};
  spec["template"] = Object{{"metadata", std::move(podMeta)}, {"spec", std::move(pod)}};

  Object deploymentLabels = w.labels;
  for (const auto& [k, v] : w.deploymentLabels.items()) deploymentLabels[k] = v;
  Object d = plan.object("apps/v1", "Deployment", w.name, w.ns, w.component, deploymentLabels);
  d["spec"] = std::move(spec);
  return d;
}

Object podDisruptionBudget(const InstallPlan& plan, const Workload& w) {
  Object pdb = plan.object("policy/v1", "PodDisruptionBudget", w.name, w.ns, w.component, w.labels);
  Object spec(w.scaling.pdbSpec);
  spec["selector"] = Object{{"matchLabels", w.selector}};
  pdb["spec"] = std::move(spec);
  return pdb;
}

Object horizontalPodAutoscaler(const InstallPlan& plan, const Workload& w) {
  Object hpa = plan.object("autoscaling/v2", "HorizontalPodAutoscaler", w.name, w.ns, w.component, w.labels);
  Object metrics =
      w.scaling.hpaMetrics.is_array()
          ? Object(w.scaling.hpaMetrics)
          : Object::array({Object{{"resource", Object{{"name", "cpu"},
                                                      {"target", Object{{"averageUtilization", w.scaling.cpuTarget},
                                                                        {"type", "Utilization"}}}}},
                                  {"type", "Resource"}}});
  hpa["spec"] = Object{{"maxReplicas", w.scaling.autoscaleMax},
                       {"metrics", std::move(metrics)},
                       {"minReplicas", w.scaling.autoscaleMin},
                       {"scaleTargetRef", Object{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", w.name}}}};
  return hpa;
}

Object namespaceObject(const InstallPlan& plan, const std::string& ns, std::string_view component) {
  Object extra = Object::object();
  // Istio labels its namespace with the network, which multi-network meshes route by.
  if (!plan.network.empty()) extra["topology.istio.io/network"] = plan.network;
  return plan.object("v1", "Namespace", ns, "", component, extra);
}

}  // namespace mesh::install
