// RequestAuthentication → Envoy's jwt_authn filter, after Istio's authn policy applier
// (pilot/pkg/security/authn): the jwtRules of every RequestAuthentication selecting the proxy,
// sorted by issuer, become providers "origins-<i>"; a request without a token passes, a request
// with a token that no provider verifies is rejected (401). Whether a token is required at all
// is AuthorizationPolicy's business (requestPrincipals). Keys always go inline (local_jwks): a
// jwksUri's or an issuer's keys as meshd fetched them into the snapshot (controlplane/jwks), or
// keys that verify nothing until then. Pure; any thread.
#pragma once

#include <optional>

#include "controlplane/xds/generator.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::xds::security {

// nullopt when no RequestAuthentication with jwtRules applies to the proxy.
std::optional<envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication> jwtAuthentication(const ProxyView& view);

std::optional<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> jwtAuthnFilter(
    const ProxyView& view);

}  // namespace mesh::xds::security
