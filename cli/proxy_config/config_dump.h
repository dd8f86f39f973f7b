// A parsed Envoy admin config dump and the sections istioctl's writers read from it (istioctl's
// configdump.Wrapper): each getter finds its section by type URL and fails with istioctl's
// "config dump has no configuration type ..." when the dump lacks it. Immutable after
// construction; getters return copies the caller may modify.
#pragma once

#include <google/protobuf/any.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"

namespace mesh::cli::pc {

class ConfigDumpView {
 public:
  explicit ConfigDumpView(envoy::admin::v3::ConfigDump dump) : dump_(std::move(dump)) {}

  const envoy::admin::v3::ConfigDump& dump() const { return dump_; }

  Result<envoy::admin::v3::BootstrapConfigDump> bootstrap() const;
  Result<envoy::admin::v3::ClustersConfigDump> clusters() const;
  Result<envoy::admin::v3::ListenersConfigDump> listeners() const;
  Result<envoy::admin::v3::RoutesConfigDump> routes() const;
  Result<envoy::admin::v3::EndpointsConfigDump> endpoints() const;
  Result<envoy::admin::v3::SecretsConfigDump> secrets() const;
  // Every ECDS section merged, in dump order.
  Result<envoy::admin::v3::EcdsConfigDump> ecds() const;

  // Only the dynamic resources, sorted by name, with versions and update times stripped: what
  // istioctl compares between istiod and Envoy, and what `authz check` reads.
  Result<envoy::admin::v3::ClustersConfigDump> dynamicClusters() const;
  Result<envoy::admin::v3::ListenersConfigDump> dynamicListeners() const;
  Result<envoy::admin::v3::RoutesConfigDump> dynamicRoutes() const;
  // The newest last_updated of the dynamic route configs, if any.
  std::optional<google::protobuf::Timestamp> lastUpdatedDynamicRoute() const;

 private:
  template <class T>
  Result<T> section(std::string_view typeName) const;

  envoy::admin::v3::ConfigDump dump_;
};

// Decodes an Any as T whatever its type URL says (istioctl rewrites v2 URLs to v3 the same way).
template <class T>
bool unpackAny(const google::protobuf::Any& any, T& out) {
  return out.ParseFromString(any.value());
}

}  // namespace mesh::cli::pc
