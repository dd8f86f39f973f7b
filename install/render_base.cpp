// Base: the CustomResourceDefinitions of every Istio kind meshd serves, and the read-only
// account another cluster's meshd uses through a remote secret (values.global.multiCluster).
#include "install/crd.h"
#include "install/meshd_access.h"
#include "install/render.h"

namespace mesh::install {

std::vector<Object> renderBase(const InstallPlan& plan) {
  std::vector<Object> out;
  for (const core::KindInfo* kind : istioKinds()) {
    std::string name = std::string(kind->plural) + "." + std::string(kind->group);
    Object crd = plan.object("apiextensions.k8s.io/v1", "CustomResourceDefinition", name, "", kBase);
    crd["spec"] = crdSpec(*kind).spec;
    out.push_back(std::move(crd));
  }
  if (plan.readerAccount) {
    // Istio's names, which `create-remote-secret` looks for.
    std::string account = "istio-reader-service-account";
    std::string role = "istio-reader-clusterrole" + plan.revisionSuffix + "-" + plan.baseNs;
    out.push_back(plan.object("v1", "ServiceAccount", account, plan.baseNs, kBase));
    Object cr = plan.object("rbac.authorization.k8s.io/v1", "ClusterRole", role, "", kBase);
    cr["rules"] = meshdReadRules();
    out.push_back(std::move(cr));
    Object crb = plan.object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", role, "", kBase);
    crb["roleRef"] = Object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}};
    crb["subjects"] =
        Object::array({Object{{"kind", "ServiceAccount"}, {"name", account}, {"namespace", plan.baseNs}}});
    out.push_back(std::move(crb));
  }
  return out;
}

}  // namespace mesh::install
