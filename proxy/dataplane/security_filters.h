// The security filters of a request or connection: network RBAC (envoy.filters.network.rbac),
// then the HCM's jwt_authn and RBAC HTTP filters in config order, before the fault filter and
// the router. The decisions are proxy/authz's; this file builds their inputs from the request
// and turns a denial into Envoy's local reply. Worker threads.
#pragma once

#include <string>

#include "proxy/dataplane/filter_chain_select.h"
#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

class Engine;

struct SecurityVerdict {
  enum class Kind { Continue, LocalReply, Close };
  Kind kind = Kind::Continue;
  unsigned status = 0;
  std::string body;
  HeaderMap headers;    // e.g. www-authenticate
  std::string details;  // Envoy's %RESPONSE_CODE_DETAILS%
};

// Runs the filters on `request` (after the connection manager's own header handling); jwt_authn
// may change its headers (token removed, payload and claims added).
SecurityVerdict runSecurityFilters(Engine& engine, const HttpConnectionManagerConfig& hcm, RequestHead& request,
                                   const ConnectionInfo& info);

// Network RBAC for a connection: false when a filter denies it (the connection is closed).
bool networkRbacAllows(Engine& engine, const NetworkRbacFilters& filters, const ConnectionInfo& info);

}  // namespace mesh::proxy::dataplane
