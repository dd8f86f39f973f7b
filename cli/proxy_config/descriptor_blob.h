// The Envoy v3 API FileDescriptorSet that cli/proxy_config/envoy_descriptors.cmake builds at
// configure time, linked into meshctl as read-only bytes (see descriptor_blob.cpp).
// Read-only and immutable: any thread may read it.
#pragma once

#include <string_view>

namespace mesh::cli::pc {

// A serialized google.protobuf.FileDescriptorSet.
std::string_view envoyDescriptorSet();

}  // namespace mesh::cli::pc
