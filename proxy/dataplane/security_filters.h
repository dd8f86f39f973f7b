// The security filters of a request or connection: network RBAC (envoy.filters.network.rbac),
// then the HCM's jwt_authn, RBAC and ext_authz HTTP filters in config order, before the fault
// filter and the router. The decisions are proxy/authz's (ext_authz: ext_authz.h); this file
// builds their inputs from the request and turns a denial into Envoy's local reply. Worker threads.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#include <cstdint>
#include <string>

#include "proxy/authz/authz_request.h"
#include "proxy/dataplane/filter_chain_select.h"
#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

class Engine;
struct Worker;
class DownstreamStream;

struct SecurityVerdict {
  enum class Kind { Continue, LocalReply, Close };
  Kind kind = Kind::Continue;
  unsigned status = 0;
  std::string body;
  HeaderMap headers;    // e.g. www-authenticate
  std::string details;  // Envoy's %RESPONSE_CODE_DETAILS%
  uint32_t responseFlags = 0;  // telemetry::ResponseFlag bits (UAEX for ext_authz)
};

// Runs the filters on `request` (after the connection manager's own header handling); jwt_authn
// and ext_authz may change its headers. `body` is what was read of the request body; ext_authz's
// with_request_body may read more of it from `stream` into `body`.
boost::asio::awaitable<SecurityVerdict> runSecurityFilters(Engine& engine, Worker& worker,
                                                           const HttpConnectionManagerConfig& hcm,
                                                           RequestHead& request, std::string& body,
                                                           DownstreamStream& stream);

// Network RBAC for a connection: false when a filter denies it (the connection is closed).
bool networkRbacAllows(Engine& engine, const NetworkRbacFilters& filters, const ConnectionInfo& info);
// The filters [begin, end) only, their shadow results added to `metadata` (what a network
// ext_authz after them reads).
bool networkRbacAllows(Engine& engine, const NetworkRbacFilters& filters, const ConnectionInfo& info,
                       authz::DynamicMetadata& metadata, size_t begin, size_t end);

}  // namespace mesh::proxy::dataplane
