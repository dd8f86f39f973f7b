// The xDS node (id, cluster, metadata, locality, user agent) → the model's Proxy. Node
// metadata is a protobuf Struct: strings are taken as they are, LABELS as a map of strings.
#pragma once

#include "controlplane/model/proxy.h"
#include "envoy/config/core/v3/base.pb.h"

namespace mesh::server {

Result<model::Proxy> proxyFromNode(const envoy::config::core::v3::Node& node);

}  // namespace mesh::server
