#include "controlplane/xds/cluster_names.h"

#include <charconv>

#include <fmt/format.h>

namespace mesh::xds {

std::string ClusterName::str() const {
  return fmt::format("{}|{}|{}|{}", direction == TrafficDirection::Inbound ? "inbound" : "outbound", port, subset,
                     host);
}

std::optional<ClusterName> ClusterName::parse(std::string_view name) {
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    auto bar = name.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    parts[i] = name.substr(0, bar);
    name.remove_prefix(bar + 1);
  }
  parts[3] = name;
  ClusterName out;
  if (parts[0] == "inbound") out.direction = TrafficDirection::Inbound;
  else if (parts[0] != "outbound") return std::nullopt;
  auto [p, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), out.port);
  if (ec != std::errc() || p != parts[1].data() + parts[1].size()) return std::nullopt;
  out.subset = std::string(parts[2]);
  out.host = std::string(parts[3]);
  return out;
}

}  // namespace mesh::xds
