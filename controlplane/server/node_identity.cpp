#include "controlplane/server/node_identity.h"

#include <fmt/format.h>

namespace mesh::server {

Result<model::Proxy> proxyFromNode(const envoy::config::core::v3::Node& node) {
  if (node.id().empty()) return fail(ErrorCode::InvalidInput, "the first request of a stream must carry node.id");
  model::NodeInfo info;
  info.id = node.id();
  info.cluster = node.cluster();
  for (const auto& [key, value] : node.metadata().fields()) {
    if (key == "LABELS" && value.has_struct_value()) {
      for (const auto& [k, v] : value.struct_value().fields())
        if (v.has_string_value()) info.labels[k] = v.string_value();
    } else if (value.has_string_value()) {
      info.metadata[key] = value.string_value();
    } else if (value.has_number_value()) {
      info.metadata[key] = fmt::format("{}", value.number_value());
    } else if (value.has_bool_value()) {
      info.metadata[key] = value.bool_value() ? "true" : "false";
    }
  }
  const auto& loc = node.locality();
  if (!loc.region().empty() || !loc.zone().empty() || !loc.sub_zone().empty())
    info.locality = fmt::format("{}/{}/{}", loc.region(), loc.zone(), loc.sub_zone());
  info.userAgent = node.user_agent_name();
  info.userAgentVersion = node.user_agent_version();
  return model::Proxy::fromNode(info);
}

}  // namespace mesh::server
