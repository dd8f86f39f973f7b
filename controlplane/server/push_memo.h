// PushMemo: what many streams would otherwise each compute alike during one push: the
// Sidecar scope of a (proxy type, namespace, Sidecar), the name list of a subscription, and
// the NameTable ids of a shared generated result. At 1,000 proxies these were most of a push's
// CPU: each stream rebuilt a scope over every service and thousands of names per type.
// One per PushContext, so nothing outlives its snapshot. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/server/name_table.h"
#include "controlplane/xds/generator.h"

namespace mesh::server {

// A generated result's resources by NameTable id: (id, index into the result), sorted by id.
using ResourceIds = std::vector<std::pair<uint32_t, uint32_t>>;

class PushMemo {
 public:
  std::shared_ptr<const model::SidecarScope> scope(const model::ConfigSnapshot& snapshot, const model::Proxy& proxy);
  // The names of sorted, distinct `ids`, sorted by name; `digest` identifies the id list.
  std::shared_ptr<const std::vector<std::string>> names(uint64_t digest, const std::vector<uint32_t>& ids,
                                                        const NameTable& table);
  // Computed once per result when it is shared by many proxies, per call otherwise.
  std::shared_ptr<const ResourceIds> ids(const xds::GeneratedResources& generated, NameTable& table);

 private:
  std::mutex mu_;
  std::map<std::tuple<int, std::string, const core::Resource*>, std::shared_ptr<const model::SidecarScope>> scopes_;
  std::map<std::tuple<uint64_t, size_t, const NameTable*>, std::shared_ptr<const std::vector<std::string>>> names_;
  // Keyed by the result's and the table's addresses (ids are the table's); the value keeps the
  // result alive so the key stays unique.
  std::map<std::pair<const xds::XdsResources*, const NameTable*>,
           std::pair<std::shared_ptr<const xds::XdsResources>, std::shared_ptr<const ResourceIds>>>
      ids_;
};

}  // namespace mesh::server
