#include "controlplane/server/push_memo.h"

#include <algorithm>

namespace mesh::server {

std::shared_ptr<const model::SidecarScope> PushMemo::scope(const model::ConfigSnapshot& snapshot,
                                                           const model::Proxy& proxy) {
  // SidecarScope::compute depends on exactly these: the type, the namespace, the Sidecar.
  const core::Resource* sidecar = proxy.type == model::ProxyType::Sidecar ? snapshot.sidecarFor(proxy) : nullptr;
  auto key = std::tuple(static_cast<int>(proxy.type), proxy.namespace_, sidecar);
  {
    std::lock_guard lock(mu_);
    if (auto it = scopes_.find(key); it != scopes_.end()) return it->second;
  }
  auto computed = std::make_shared<const model::SidecarScope>(model::SidecarScope::compute(snapshot, proxy));
  std::lock_guard lock(mu_);
  return scopes_.try_emplace(std::move(key), std::move(computed)).first->second;
}

std::shared_ptr<const std::vector<std::string>> PushMemo::names(uint64_t digest, const std::vector<uint32_t>& ids,
                                                                const NameTable& table) {
  auto key = std::tuple(digest, ids.size(), &table);
  {
    std::lock_guard lock(mu_);
    if (auto it = names_.find(key); it != names_.end()) return it->second;
  }
  auto list = std::make_shared<std::vector<std::string>>();
  list->reserve(ids.size());
  for (uint32_t id : ids) list->push_back(table.name(id));
  std::ranges::sort(*list);
  std::lock_guard lock(mu_);
  return names_.try_emplace(key, std::move(list)).first->second;
}

std::shared_ptr<const ResourceIds> PushMemo::ids(const xds::GeneratedResources& generated, NameTable& table) {
  auto index = [&] {
    auto out = std::make_shared<ResourceIds>();
    out->reserve(generated.resources->size());
    for (size_t i = 0; i < generated.resources->size(); ++i)
      out->emplace_back(table.id((*generated.resources)[i].name), static_cast<uint32_t>(i));
    std::ranges::sort(*out);
    return out;
  };
  if (!generated.shared) return index();
  auto key = std::pair(generated.resources.get(), static_cast<const NameTable*>(&table));
  {
    std::lock_guard lock(mu_);
    if (auto it = ids_.find(key); it != ids_.end()) return it->second.second;
  }
  std::shared_ptr<const ResourceIds> built = index();
  std::lock_guard lock(mu_);
  return ids_.try_emplace(key, generated.resources, std::move(built)).first->second.second;
}

}  // namespace mesh::server
