// Every message type of the Envoy v3 API, by type URL: reads proto3 JSON into binary and makes
// empty messages of types meshctl has no generated C++ for (Wasm, matcher inputs, ...).
// Built once on first use from the embedded descriptor set (api/envoy_descriptor_set.h); read-only
// afterwards, so any thread may use it.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace google::protobuf::util {
class TypeResolver;
}

namespace mesh::cli::pc {

inline constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";

// "type.googleapis.com/envoy.config.cluster.v3.Cluster" -> "envoy.config.cluster.v3.Cluster".
std::string_view typeNameOf(std::string_view typeUrl);

class TypeRegistry {
 public:
  static const TypeRegistry& instance();

  // nullptr when the type is not part of the API meshctl carries (e.g. Istio's own filters).
  const google::protobuf::Descriptor* findMessage(std::string_view typeUrl) const;
  // A new empty (dynamic) message of that type; nullptr when the type is unknown.
  std::unique_ptr<google::protobuf::Message> newMessage(std::string_view typeUrl) const;
  // proto3 JSON, with snake_case or lowerCamel field names, to the binary encoding of the
  // message `typeUrl`. Unknown fields are ignored, like Envoy's and istioctl's readers. A
  // google.protobuf.Any of a type the registry lacks (Istio's own filters) keeps its type URL,
  // and its JSON members travel along as text: unknownAnyJson() gives them back for printing.
  Result<std::string> jsonToBinary(std::string_view typeUrl, std::string_view json) const;

  // The JSON members kept for an Any of unknown type (an object without "@type"), or nullopt
  // when `typeUrl` is known or nothing was kept.
  std::optional<std::string> unknownAnyJson(std::string_view typeUrl, const std::string& value) const;

  TypeRegistry(const TypeRegistry&) = delete;
  TypeRegistry& operator=(const TypeRegistry&) = delete;
  ~TypeRegistry();

 private:
  TypeRegistry();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesh::cli::pc
