// The debug API's own gRPC server: where it listens and how it is protected. Loopback only
// unless it is told otherwise: a non-loopback address needs mTLS (cert, key and the CA that
// signs client certificates; clients without a valid certificate are refused) or an explicit
// allowRemote. Called once by meshd's main at start-up.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "core/result.h"

namespace mesh::debug {

struct DebugServerOptions {
  // 15015: next to xDS (15010) and monitoring (15014), and used by no Istio component, so
  // meshd can run beside an istiod or a sidecar on one host.
  std::string address = "127.0.0.1:15015";
  bool allowRemote = false;  // serve a non-loopback address in plaintext
  // PEM files. All three turn on mTLS; any other combination is an error.
  std::string tlsCert;
  std::string tlsKey;
  std::string tlsCa;

  bool tls() const { return !tlsCert.empty() || !tlsKey.empty() || !tlsCa.empty(); }
};

// Whether HOST:PORT (or [v6]:PORT, or unix:PATH) can only be reached from this host:
// 127.0.0.0/8, ::1, localhost, and unix sockets. "0.0.0.0", "[::]" and host names are not.
bool isLoopbackAddress(std::string_view hostPort);

// Checks the options and builds the server credentials: mTLS requiring and verifying client
// certificates, or plaintext when the address is loopback or allowRemote is set.
Result<std::shared_ptr<grpc::ServerCredentials>> debugServerCredentials(const DebugServerOptions& options);

// Starts a server for `service` on options.address; `port` receives the bound port (useful
// with port 0). `service` must outlive the server.
Result<std::unique_ptr<grpc::Server>> startDebugServer(const DebugServerOptions& options, grpc::Service& service,
                                                       int& port);

}  // namespace mesh::debug
