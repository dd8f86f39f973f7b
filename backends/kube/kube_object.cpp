#include "backends/kube/kube_object.h"

#include "core/kinds.h"
#include "core/yaml/convert.h"

namespace mesh::backends::kube {
namespace {

bool validResourceVersion(std::string_view v) {
  if (v.empty() || v.front() == '0') return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

void stripServerMetadata(nlohmann::json& object) {
  if (!object.is_object()) return;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return;
  for (const char* key :
       {"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"})
    meta->erase(key);
}

ResourceBatch::ResourceBatch() : tree_(std::make_shared<core::Tree>("")) {}

core::Resource ResourceBatch::add(nlohmann::json object) {
  stripServerMetadata(object);
  std::string apiVersion =
      object.is_object() && object.contains("apiVersion") && object["apiVersion"].is_string()
          ? object["apiVersion"].get<std::string>()
          : std::string();
  std::string kind = object.is_object() && object.contains("kind") && object["kind"].is_string()
                         ? object["kind"].get<std::string>()
                         : std::string();
  const core::KindInfo* info = core::findKind(core::splitApiVersion(apiVersion).first, kind);
  const core::Node* root = core::fromJson(tree_->arena(), object);
  ++count_;
  // The tree has no file: objects from a cluster are named by kind and name (istioctl does so).
  return core::Resource(tree_, root, info, "");
}

nlohmann::json resourceToJson(const core::Resource& r) { return core::toJson(r.root()); }

std::optional<int> compareResourceVersions(std::string_view a, std::string_view b) {
  if (!validResourceVersion(a) || !validResourceVersion(b)) return std::nullopt;
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace mesh::backends::kube
