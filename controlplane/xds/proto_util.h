// Small helpers for building Envoy messages from config trees: durations, Any packing of
// typed filter configs, wrapper values. Used by every generator; stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>

#include "core/yaml/node.h"

namespace mesh::xds {

// Go-style duration text ("1.5s", "100ms") under `key`; nullopt when absent or unparsable.
std::optional<int64_t> durationNanosAt(const core::Node* map, std::string_view key);
void setDuration(google::protobuf::Duration& out, int64_t nanos);
// Sets `out` from map[key] when present; returns whether it did.
bool setDurationFrom(google::protobuf::Duration& out, const core::Node* map, std::string_view key);

// Any with Envoy's type URL prefix.
google::protobuf::Any pack(const google::protobuf::Message& message);

}  // namespace mesh::xds
