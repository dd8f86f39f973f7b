// A Kubernetes-style object read from a file: identity (apiVersion, kind, name, namespace),
// metadata and spec, all as nodes of the Tree it came from, so every value still knows its
// file, line and column. Cheap to copy (shares the Tree). Immutable; any thread may read it.
#pragma once

#include <string>
#include <string_view>

#include "core/kinds.h"
#include "core/yaml/node.h"

namespace mesh::core {

class Resource {
 public:
  Resource(TreePtr tree, const Node* root, const KindInfo* info, std::string_view defaultNamespace);

  const std::string& file() const { return tree_->path(); }
  Mark mark() const { return root_->mark(); }
  const Node& root() const { return *root_; }
  const TreePtr& tree() const { return tree_; }

  std::string_view apiVersion() const { return apiVersion_; }
  std::string_view group() const { return splitApiVersion(apiVersion_).first; }
  std::string_view version() const { return splitApiVersion(apiVersion_).second; }
  std::string_view kind() const { return kind_; }
  std::string_view name() const { return name_; }
  // "" for cluster-scoped kinds; the default namespace when a namespaced object names none.
  std::string_view namespace_() const { return namespace_v_; }
  // nullptr for kinds meshctl does not know; such objects are kept intact all the same.
  const KindInfo* info() const { return info_; }

  const Node* metadata() const { return root_->get("metadata"); }
  const Node* spec() const { return root_->get("spec"); }
  const Node* labels() const;
  const Node* annotations() const;
  std::string_view label(std::string_view key) const;
  std::string_view annotation(std::string_view key) const;

  // "VirtualService reviews.default": the form istioctl uses to name a resource.
  std::string displayName() const;

 private:
  TreePtr tree_;
  const Node* root_;
  const KindInfo* info_;
  std::string_view apiVersion_;
  std::string_view kind_;
  std::string_view name_;
  std::string_view namespace_v_;
};

}  // namespace mesh::core
