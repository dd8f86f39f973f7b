// EnvoyTypes: every message of Envoy's v3 API (plus the xds/udpa types Envoy names inside Any),
// from a descriptor set embedded at build time. mesh_envoy_api compiles only the types meshd
// generates; resources also carry extension configs (retry predicates, access loggers, ...)
// that the xDS client must recognise when it validates an Any and that /config_dump must print.
// Files are built into the pool lazily, on first lookup. Thread-safe (DescriptorPool is).
#pragma once

#include <memory>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/type_resolver.h>

namespace mesh::proxy {

class EnvoyTypes {
 public:
  static const EnvoyTypes& instance();

  // The message named by a type URL ("type.googleapis.com/envoy.config.cluster.v3.Cluster")
  // or a full name; nullptr when the Envoy API has no such message.
  const google::protobuf::Descriptor* find(std::string_view typeUrlOrName) const;
  // A new, empty dynamic message of that type; nullptr when unknown.
  std::unique_ptr<google::protobuf::Message> newMessage(std::string_view typeUrlOrName) const;
  // For JSON printing of messages whose Any fields name any Envoy type.
  google::protobuf::util::TypeResolver& resolver() const { return *resolver_; }

  EnvoyTypes(const EnvoyTypes&) = delete;
  EnvoyTypes& operator=(const EnvoyTypes&) = delete;
  ~EnvoyTypes();

 private:
  EnvoyTypes();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;
};

// "type.googleapis.com/a.b.C" → "a.b.C".
std::string_view typeNameOf(std::string_view typeUrl);

}  // namespace mesh::proxy
