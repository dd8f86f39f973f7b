#include "controlplane/xds/generator.h"

#include <algorithm>

#include <fmt/format.h>

namespace mesh::xds {

std::string ProxyView::outboundKey(std::string_view type) const {
  std::string key = fmt::format("{}|{}", type, scope.key());
  if (snapshot.hasWorkloadScopedDestinationRules(proxy.namespace_))
    for (const auto& [k, v] : proxy.labels) key += fmt::format("|{}={}", k, v);
  return key;
}

bool ResourceNames::contains(std::string_view name) const {
  return wildcard || std::ranges::binary_search(list(), name);
}

}  // namespace mesh::xds
