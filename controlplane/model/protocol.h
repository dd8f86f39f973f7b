// Istio's protocol selection for service ports (pkg/config/kube/conversion.go): appProtocol
// wins, then the port name's prefix ("http-web", "grpc", "tcp-db"). Pure functions; any thread.
#pragma once

#include <string_view>

#include "core/validation/istio_rules.h"

namespace mesh::model {

using core::validation::Protocol;

// A Kubernetes Service port: appProtocol ("http", "kubernetes.io/h2c", ...) first, then the
// name up to its first '-'. Unknown gives Unsupported, which Istio treats as TCP with sniffing.
Protocol protocolOfKubePort(std::string_view name, std::string_view appProtocol);
// A ServiceEntry port's `protocol` field ("HTTP", "GRPC", ...), case-insensitive.
Protocol protocolOfName(std::string_view protocol);

// HTTP/1.1, HTTP/2, gRPC, gRPC-Web: routed by an HTTP connection manager.
bool isHttpProtocol(Protocol p);
// HTTP/2 on the upstream connection (gRPC and HTTP2 ports).
bool isHttp2Protocol(Protocol p);

}  // namespace mesh::model
