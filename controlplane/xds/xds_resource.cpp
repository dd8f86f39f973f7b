#include "controlplane/xds/xds_resource.h"

#include <algorithm>

namespace mesh::xds {
namespace {

// FNV-1a, 64-bit: stable across runs (versions shown to users derive from it).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::string_view shortTypeName(std::string_view typeUrl) {
  if (typeUrl == type_url::kCluster) return "cds";
  if (typeUrl == type_url::kEndpoint) return "eds";
  if (typeUrl == type_url::kListener) return "lds";
  if (typeUrl == type_url::kRoute) return "rds";
  if (typeUrl == type_url::kSecret) return "sds";
  return "unknown";
}

XdsResource XdsResource::of(std::string name, const google::protobuf::Message& message) {
  auto body = std::make_shared<std::string>();
  // Deterministic: map fields in a stable order, so equal config gives equal bytes and hashes.
  {
    google::protobuf::io::StringOutputStream raw(body.get());
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&out);
  }
  uint64_t h = fnv1a(*body);
  return XdsResource{std::move(name), std::move(body), h};
}

void normalize(XdsResources& resources) {
  std::ranges::stable_sort(resources, {}, &XdsResource::name);
  auto dup = std::ranges::unique(resources, {}, &XdsResource::name);
  resources.erase(dup.begin(), dup.end());
}

}  // namespace mesh::xds
