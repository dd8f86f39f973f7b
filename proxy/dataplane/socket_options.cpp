// Upstream socket options: see socket_options.h.
#include "proxy/dataplane/socket_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace mesh::proxy::dataplane {

namespace {

bool setInt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

bool setTcpKeepalive(int fd, const TcpKeepaliveConfig& keepalive) {
  bool ok = setInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (keepalive.probes) ok = setInt(fd, IPPROTO_TCP, TCP_KEEPCNT, static_cast<int>(*keepalive.probes)) && ok;
  if (keepalive.timeSeconds) ok = setInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(*keepalive.timeSeconds)) && ok;
  if (keepalive.intervalSeconds) {
    ok = setInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(*keepalive.intervalSeconds)) && ok;
  }
  return ok;
}

}  // namespace mesh::proxy::dataplane
