// ext_authz's gRPC client: envoy.service.auth.v3.Authorization/Check over the data plane's h2c
// upstream (gRPC framing, grpc-timeout), the CheckRequest built from the request's attributes and
// the CheckResponse read through the Envoy API's descriptors (proxy/xds/envoy_types.h), as
// mesh_envoy_api does not compile service/auth. Internal to ext_authz.cpp; worker threads.
#pragma once

#include <optional>
#include <string_view>

#include "proxy/dataplane/ext_authz.h"

namespace mesh::proxy::dataplane {

// Continue (headers of an OkHttpResponse applied to `request`) or the denial's LocalReply;
// nullopt when the check could not be made (ext_authz's error path).
boost::asio::awaitable<std::optional<SecurityVerdict>> grpcCheck(Engine& engine, Worker& worker,
                                                                 const ExtAuthzConfig& config, RequestHead& request,
                                                                 std::string_view body, bool partialBody,
                                                                 DownstreamStream& stream);

// Network ext_authz's check of a TCP connection: a CheckRequest with the source (address, the
// client certificate's principal) and destination (address, `localPrincipal`), no request.
// True: allowed; false: denied; nullopt when the check could not be made.
boost::asio::awaitable<std::optional<bool>> grpcCheckConnection(Engine& engine, Worker& worker,
                                                                const ExtAuthzConfig& config,
                                                                const ConnectionInfo& info,
                                                                const std::string& localPrincipal);

}  // namespace mesh::proxy::dataplane
