#include "analyzers/util/workloads.h"

namespace mesh::analysis {

std::string_view scalarAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n && (n->isScalar() || n->isNull()) ? n->text() : std::string_view();
}

bool hasKey(const core::Node* map, std::string_view key) {
  return map && map->find(key) != nullptr;
}

const core::Node* podSpecOf(const core::Resource& r) {
  const core::Node* spec = r.spec();
  if (r.kind() == "Pod") return spec;
  const core::Node* tmpl = spec ? spec->get("template") : nullptr;
  return tmpl ? tmpl->get("spec") : nullptr;
}

namespace {

const core::Node* templateMetadata(const core::Resource& r) {
  if (r.kind() == "Pod") return r.metadata();
  const core::Node* spec = r.spec();
  const core::Node* tmpl = spec ? spec->get("template") : nullptr;
  return tmpl ? tmpl->get("metadata") : nullptr;
}

}  // namespace

const core::Node* podLabelsOf(const core::Resource& r) {
  const core::Node* m = templateMetadata(r);
  return m ? m->get("labels") : nullptr;
}

const core::Node* podAnnotationsOf(const core::Resource& r) {
  const core::Node* m = templateMetadata(r);
  return m ? m->get("annotations") : nullptr;
}

std::vector<const core::Node*> containersOf(const core::Node* podSpec, bool withInit) {
  std::vector<const core::Node*> out;
  if (!podSpec) return out;
  for (std::string_view key :
       {std::string_view("containers"), std::string_view("initContainers")}) {
    if (key == "initContainers" && !withInit) break;
    if (const core::Node* list = podSpec->get(key))
      for (const core::Node* c : list->items())
        if (c->isMapping()) out.push_back(c);
  }
  return out;
}

std::string resourceFullName(const core::Resource& r) {
  if (r.namespace_().empty()) return std::string(r.name());
  return std::string(r.namespace_()) + "/" + std::string(r.name());
}

bool isIstioControlPlane(const core::Resource& r) {
  return hasKey(r.labels(), "istio") || r.label("release") == "istio";
}

bool deploymentInMesh(const Snapshot& snapshot, const core::Resource& deployment) {
  // The first istio-proxy container decides, and only when it names an image.
  for (const core::Node* c : containersOf(podSpecOf(deployment), false)) {
    if (scalarAt(c, "name") != kIstioProxyContainer) continue;
    if (!scalarAt(c, "image").empty()) return true;
    break;
  }
  // sidecar.istio.io/inject: the template label wins over the annotation; only "true" injects.
  if (const core::Node* labels = podLabelsOf(deployment); hasKey(labels, kSidecarInjectKey))
    return scalarAt(labels, kSidecarInjectKey) == "true";
  if (const core::Node* annos = podAnnotationsOf(deployment); hasKey(annos, kSidecarInjectKey))
    return scalarAt(annos, kSidecarInjectKey) == "true";
  if (const core::Resource* ns = snapshot.find(kinds::Namespace, "", deployment.namespace_()))
    return ns->label(kInjectionLabel) == "enabled";
  return false;
}

std::string injectorConfigMapName(std::string_view revision) {
  if (revision.empty() || revision == "default") return std::string(kInjectorConfigMap);
  return std::string(kInjectorConfigMap) + "-" + std::string(revision);
}

const nlohmann::json* jsonAt(const nlohmann::json& root,
                             std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &root;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::optional<nlohmann::json> injectorValues(const core::Resource& configMap) {
  const core::Node* data = configMap.root().get("data");
  const core::Node* values = data ? data->get("values") : nullptr;
  if (!values || !values->isScalar()) return std::nullopt;
  nlohmann::json parsed =
      nlohmann::json::parse(values->text(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

}  // namespace mesh::analysis
