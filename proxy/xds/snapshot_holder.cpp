#include "proxy/xds/snapshot_holder.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

namespace mesh::proxy {

Result<void> validateSnapshot(const XdsSnapshot& snapshot) {
  using envoy::config::core::v3::SocketAddress;
  std::map<std::tuple<std::string, uint32_t, int>, std::string> bound;
  for (const auto& [name, held] : snapshot.listeners) {
    const auto& l = held.resource;
    if (l.has_bind_to_port() && !l.bind_to_port().value()) continue;
    if (!l.address().has_socket_address()) continue;
    const SocketAddress& sa = l.address().socket_address();
    auto key = std::make_tuple(sa.address(), sa.port_value(), static_cast<int>(sa.protocol()));
    auto [it, inserted] = bound.emplace(key, name);
    if (!inserted)
      return fail(ErrorCode::InvalidInput, fmt::format("listener {:?} has duplicate address {}:{} as listener {:?}",
                                                       name, sa.address(), sa.port_value(), it->second));
  }
  return {};
}

Result<void> SnapshotHolder::apply(std::shared_ptr<const XdsSnapshot> candidate) {
  if (auto r = validateSnapshot(*candidate); !r) return r;
  std::lock_guard lock(mu_);
  current_ = std::move(candidate);
  return {};
}

std::shared_ptr<const XdsSnapshot> SnapshotHolder::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace mesh::proxy
