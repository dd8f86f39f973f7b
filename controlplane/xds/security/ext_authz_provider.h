// A CUSTOM AuthorizationPolicy's provider.name → the MeshConfig extensionProviders entry it
// names (envoyExtAuthzHttp or envoyExtAuthzGrpc) and the Envoy ext_authz config Istio builds
// for it (pilot/pkg/security/authz/builder/extauthz.go). A name that is not an ext_authz
// provider, or whose service is not in the registry, is an error: the caller then denies all.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "controlplane/model/config_snapshot.h"
#include "core/result.h"
#include "envoy/config/core/v3/grpc_service.pb.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"

namespace mesh::xds::security {

struct ExtAuthzService {
  std::string host;     // the provider's service hostname
  uint32_t port = 0;    // the provider's port
  std::string cluster;  // "outbound|<port>||<host>"
  bool http = false;    // envoyExtAuthzHttp; else envoyExtAuthzGrpc
  const model::ExtAuthzProvider* provider = nullptr;  // in the snapshot's MeshConfig
};

// Istio's getExtAuthz + LookupCluster: the provider by name, its service "[<namespace>/]<host>"
// (without a namespace the host must be declared in exactly one).
Result<ExtAuthzService> resolveExtAuthzProvider(const model::ConfigSnapshot& snapshot, std::string_view name);

// The envoy.filters.http.ext_authz config, running only for requests the CUSTOM shadow rules
// tagged (filter_enabled_metadata on `rbacFilter`'s "istio_ext_authz_shadow_effective_policy_id").
envoy::extensions::filters::http::ext_authz::v3::ExtAuthz httpExtAuthzConfig(const ExtAuthzService& service,
                                                                             std::string_view rbacFilter);
// The gRPC service of a gRPC provider (what the network ext_authz filter calls too).
envoy::config::core::v3::GrpcService extAuthzGrpcService(const ExtAuthzService& service);

}  // namespace mesh::xds::security
