// The Envoy v3 API FileDescriptorSet that api/envoy_descriptors.cmake builds at configure time,
// linked into meshctl and meshproxy as read-only bytes (see envoy_descriptor_set.cpp).
// Read-only and immutable: any thread may read it.
#pragma once

#include <string_view>

namespace mesh::api {

// A serialized google.protobuf.FileDescriptorSet.
std::string_view envoyDescriptorSet();

}  // namespace mesh::api
