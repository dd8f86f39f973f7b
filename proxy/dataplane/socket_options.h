// Socket options the cluster asks for on its upstream connections: TCP keepalive
// (upstream_connection_options.tcp_keepalive). Called by the worker that made the connection,
// once per connection, never per request.
#pragma once

#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

// SO_KEEPALIVE on `fd`, then TCP_KEEPCNT / TCP_KEEPIDLE / TCP_KEEPINTVL for the fields set (the
// system's defaults for the others, as Envoy). False when the kernel refused one.
bool setTcpKeepalive(int fd, const TcpKeepaliveConfig& keepalive);

}  // namespace mesh::proxy::dataplane
