#include "core/resource.h"

#include <mutex>
#include <set>

namespace mesh::core {
namespace {

// Defaulted namespaces are not in the document's tree, and the caller's string may not
// outlive the Resource: keep one process-wide copy of each (namespaces are few).
std::string_view internNamespace(std::string_view ns) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> names;
  std::lock_guard lock(mutex);
  auto it = names.find(ns);
  if (it == names.end()) it = names.emplace(ns).first;
  return *it;
}

std::string_view textAt(const Node* map, std::string_view key) {
  const Node* n = map ? map->get(key) : nullptr;
  return n && n->isScalar() ? n->text() : std::string_view();
}

}  // namespace

Resource::Resource(TreePtr tree, const Node* root, const KindInfo* info, std::string_view defaultNamespace)
    : tree_(std::move(tree)), root_(root), info_(info) {
  apiVersion_ = textAt(root_, "apiVersion");
  kind_ = textAt(root_, "kind");
  name_ = textAt(metadata(), "name");
  namespace_v_ = textAt(metadata(), "namespace");
  bool namespaced = info_ ? info_->namespaced : true;
  if (!namespaced) namespace_v_ = {};
  else if (namespace_v_.empty()) namespace_v_ = internNamespace(defaultNamespace);
}

const Node* Resource::labels() const {
  const Node* m = metadata();
  return m ? m->get("labels") : nullptr;
}

const Node* Resource::annotations() const {
  const Node* m = metadata();
  return m ? m->get("annotations") : nullptr;
}

std::string_view Resource::label(std::string_view key) const { return textAt(labels(), key); }
std::string_view Resource::annotation(std::string_view key) const { return textAt(annotations(), key); }

std::string Resource::displayName() const {
  std::string out(kind_);
  out += ' ';
  out += name_;
  if (!namespace_v_.empty()) {
    out += '.';
    out += namespace_v_;
  }
  return out;
}

}  // namespace mesh::core
