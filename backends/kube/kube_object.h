// Between the API server's JSON objects and core::Resource: what the store keeps of an object
// (the config as written, plus status; not the server's bookkeeping), and resourceVersion
// comparison (KEP-5504: decimal integers that grow, comparable within one resource).
// Pure functions; any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource.h"

namespace mesh::backends::kube {

// Drops metadata the server maintains for itself (managedFields, resourceVersion, uid,
// creationTimestamp, generation, selfLink): the store's revision stands for the version, and
// the object then compares equal (core::sameValue) to the manifest it was applied from.
void stripServerMetadata(nlohmann::json& object);

// Builds Resources that share one Tree, so a list of many objects costs one arena, not one each.
class ResourceBatch {
 public:
  ResourceBatch();
  // `object` as stored: server metadata stripped. Cluster-scoped kinds get namespace "".
  core::Resource add(nlohmann::json object);
  size_t size() const { return count_; }

 private:
  std::shared_ptr<core::Tree> tree_;
  size_t count_ = 0;
};

// The object as the JSON body of a request.
nlohmann::json resourceToJson(const core::Resource& r);

// <0, 0, >0 like strcmp; nullopt when either is not a positive decimal integer without leading
// zeros (servers before Kubernetes 1.35 promised nothing, so then only equality is known).
std::optional<int> compareResourceVersions(std::string_view a, std::string_view b);

}  // namespace mesh::backends::kube
