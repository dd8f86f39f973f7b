#include "cli/cluster_uninstall.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/console.h"
#include "cli/exit_codes.h"

namespace mesh::cli {
namespace {

namespace kube = backends::kube;

struct KindRef {
  const char* group;
  const char* version;
  const char* kind;
  bool purgeOnly;  // removed only with --purge
};

// Every kind install renders (install/render_*.cpp), in the order install applies them.
constexpr KindRef kKinds[] = {
    {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", true},
    {"", "v1", "Namespace", true},
    {"", "v1", "ServiceAccount", false},
    {"rbac.authorization.k8s.io", "v1", "ClusterRole", false},
    {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", false},
    {"rbac.authorization.k8s.io", "v1", "Role", false},
    {"rbac.authorization.k8s.io", "v1", "RoleBinding", false},
    {"", "v1", "ConfigMap", false},
    {"apps", "v1", "Deployment", false},
    {"", "v1", "Service", false},
    {"policy", "v1", "PodDisruptionBudget", false},
    {"autoscaling", "v2", "HorizontalPodAutoscaler", false},
};

constexpr std::string_view kManagedBy = "app.kubernetes.io/managed-by=meshctl";

struct Found {
  nlohmann::json object;
  kube::ApiResource resource;
  std::string component;
  int kindRank = 0;
  bool purgeOnly = false;
};

std::string componentOf(const nlohmann::json& object) {
  const auto metadata = object.value("metadata", nlohmann::json::object());
  const auto labels = metadata.value("labels", nlohmann::json::object());
  auto it = labels.find("operator.istio.io/component");
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string("Other");
}

Result<std::vector<Found>> findInstalled(kube::KubeClient& client) {
  std::vector<Found> found;
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    const KindRef& k = kKinds[i];
    auto resource = client.discovery().resolve(core::GroupKind{k.group, k.kind}, k.version);
    if (!resource) {
      if (resource.error().code == ErrorCode::NotFound) continue;  // not served: none can exist
      return core::failWith(resource.error());
    }
    kube::ListOptions list;
    list.labelSelector = std::string(kManagedBy);
    auto items = client.list(*resource, list);
    if (!items) return core::failWith(items.error());
    for (auto& item : items->items) {
      std::string component = componentOf(item);
      found.push_back({std::move(item), *resource, std::move(component), static_cast<int>(i), k.purgeOnly});
    }
  }
  // Reverse install order: gateways first, Istio core last; within a component, what depends
  // on an object goes before it.
  std::ranges::stable_sort(found, [](const Found& a, const Found& b) {
    int ca = componentRank(a.component), cb = componentRank(b.component);
    if (ca != cb) return ca > cb;
    return a.kindRank > b.kindRank;
  });
  return found;
}

}  // namespace

int runClusterUninstall(const ClusterUninstallOptions& options) {
  auto client = connectCluster(options.cluster);
  if (!client) return reportError(client.error());
  auto found = findInstalled(**client);
  if (!found) return reportError(found.error());

  std::vector<const Found*> remove, keep;
  for (const auto& f : *found) (f.purgeOnly && !options.purge ? keep : remove).push_back(&f);
  if (remove.empty()) {
    fmt::print("nothing to uninstall in {}{}\n", (*client)->describe(),
               keep.empty() ? "" : fmt::format(" ({} kept: uninstall --purge deletes them)", keep.size()));
    return kExitOk;
  }
  fmt::print("This will delete from {} what meshctl installed ({}):\n", (*client)->describe(), kManagedBy);
  for (const auto* f : remove) fmt::print("  delete {}\n", objectTitle(f->object));
  if (!keep.empty()) {
    size_t crds = std::ranges::count_if(keep, [](const Found* f) { return objectKind(f->object) == "CustomResourceDefinition"; });
    fmt::print("  keep {} CustomResourceDefinition{} and {} Namespace{} (--purge deletes them, and with the CRDs "
               "every Istio config object in the cluster)\n",
               crds, crds == 1 ? "" : "s", keep.size() - crds, keep.size() - crds == 1 ? "" : "s");
  }
  if (!options.yes) {
    if (!confirmOrCancel("Proceed? (y/N)", "uninstall")) return kExitDeclined;
  }

  StatusPrinter out(stdout);
  kube::DeleteOptions del;
  del.propagationPolicy = "Background";
  size_t i = 0;
  while (i < remove.size()) {
    const std::string component = remove[i]->component;
    size_t deleted = 0;
    for (; i < remove.size() && remove[i]->component == component; ++i) {
      const Found& f = *remove[i];
      out.spin(fmt::format("{}: deleting {}", componentTitle(component), objectTitle(f.object)));
      auto gone = (*client)->remove(f.resource, kube::metadataString(f.object, "namespace"),
                                    kube::metadataString(f.object, "name"), del);
      if (!gone && gone.error().code != ErrorCode::NotFound) {
        out.fail(fmt::format("{}: {}: {}", componentTitle(component), objectTitle(f.object), gone.error().message),
                 gone.error().hint.empty() ? std::vector<std::string>{} : std::vector<std::string>{gone.error().hint});
        out.fail("Uninstall failed", {"fix what is shown above and run `meshctl uninstall` again; it deletes what is left"});
        return kExitUnavailable;
      }
      ++deleted;
    }
    out.ok(fmt::format("{} removed ({} object{})", componentTitle(component), deleted, deleted == 1 ? "" : "s"));
  }
  out.ok(keep.empty() ? std::string("Uninstall complete")
                      : fmt::format("Uninstall complete ({} CRDs and namespaces kept)", keep.size()));
  return kExitOk;
}

}  // namespace mesh::cli
