// A protobuf message as Go's protojson sees it, the JSON istioctl prints with -o json|yaml for
// clusters, listeners, routes, endpoints and ECDS: lowerCamel names, fields in declaration
// order, map keys sorted, 64-bit integers as strings, well-known types in their JSON forms and
// google.protobuf.Any expanded through the TypeRegistry (unknown types keep only "@type").
// Pure function of its input.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "cli/proxy_config/json_value.h"

namespace mesh::cli::pc {

JsonValue protoToJson(const google::protobuf::Message& message);

// Shared with the legacy jsonpb writer: "1.5s" and "2023-05-06T05:41:32.118Z" forms, with 0, 3,
// 6 or 9 fractional digits.
std::string formatDuration(int64_t seconds, int32_t nanos);
std::string formatTimestamp(int64_t seconds, int32_t nanos);
// The entries of map field `fd` of `m` in the order both Go encoders print them: false before
// true, integers numerically, strings bytewise. `key` is the entry's JSON key text.
struct MapEntryRef {
  std::string key;
  const google::protobuf::Message* entry;
};
std::vector<MapEntryRef> sortedMapEntries(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* fd);

// Well-known types with a special JSON form ("" for ordinary messages), named as jsonpb does.
std::string_view wellKnownType(const google::protobuf::Descriptor* descriptor);

}  // namespace mesh::cli::pc
