// What the authorization filters see of a connection or request: the peer's identity and
// addresses, the request headers (none for network RBAC) and the dynamic metadata earlier
// filters published. Built by the data plane per request on its worker thread; read-only here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mesh::proxy::authz {

// Request headers by lower-case name, with the pseudo-headers ":method", ":path" (query
// included), ":authority" and ":scheme". A repeated header is its values joined by ",", as
// Envoy's header matchers see it.
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  virtual std::optional<std::string> get(std::string_view name) const = 0;
};

// Dynamic metadata: {"<filter name>": {"<key>": <value>, ...}, ...}. Numbers stay JSON numbers
// (Envoy's Struct holds them as doubles; the double matchers read either).
using DynamicMetadata = nlohmann::json;

struct AuthzRequest {
  // The verified peer certificate's first URI SAN (SPIFFE ID); empty without mTLS.
  std::string_view peerPrincipal;
  std::string_view directRemoteAddress;  // the connection's peer
  uint32_t directRemotePort = 0;
  std::string_view remoteAddress;        // the client as X-Forwarded-For says (else the peer)
  std::string_view destinationAddress;   // the original destination
  uint32_t destinationPort = 0;
  std::string_view serverName;  // SNI
  const RequestHeaders* headers = nullptr;  // null: a network (L4) check
  const DynamicMetadata* metadata = nullptr;
};

}  // namespace mesh::proxy::authz
