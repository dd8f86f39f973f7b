// Envoy's envoy.filters.network.ext_authz (Istio's CUSTOM action on TCP chains): when a
// connection starts, before tcp_proxy dials, a gRPC Authorization/Check with the connection's
// source and destination (no HTTP request); a denial closes the connection (flag UAEX), so does
// an error unless failure_mode_allow. filter_enabled_metadata reads what the network RBAC
// filters before it published (Istio's shadow rules). Compiled on the config thread; run on
// the connection's worker (tcp_proxy.cpp).
#pragma once

#include <google/protobuf/any.pb.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "proxy/dataplane/asio_includes.h"
#include "proxy/dataplane/ext_authz.h"

namespace mesh::proxy::dataplane {

struct Downstream;

// A network ExtAuthz typed_config as the gRPC part of ExtAuthzConfig (envoy_grpc only).
Result<std::shared_ptr<const ExtAuthzConfig>> compileNetworkExtAuthz(const google::protobuf::Any& typedConfig,
                                                                     const std::string& where);

// A TCP chain's network filters in config order: its network RBAC filters and its ext_authz
// (TcpProxyConfig::networkExtAuthzAt says where). False: the connection is to be closed; an
// ext_authz denial or error adds UAEX to `responseFlags`.
boost::asio::awaitable<bool> networkFiltersAllow(Engine& engine, Worker& worker, const TcpProxyConfig& config,
                                                 const Downstream& ds, uint32_t& responseFlags);

}  // namespace mesh::proxy::dataplane
