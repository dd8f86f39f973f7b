#include "controlplane/xds/proto_util.h"

#include "core/validation/duration.h"

namespace mesh::xds {

std::optional<int64_t> durationNanosAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  if (!n || !n->isScalar()) return std::nullopt;
  return core::validation::parseDuration(n->text());
}

void setDuration(google::protobuf::Duration& out, int64_t nanos) {
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

bool setDurationFrom(google::protobuf::Duration& out, const core::Node* map, std::string_view key) {
  auto ns = durationNanosAt(map, key);
  if (!ns) return false;
  setDuration(out, *ns);
  return true;
}

google::protobuf::Any pack(const google::protobuf::Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

}  // namespace mesh::xds
