#include "controlplane/model/protocol.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace mesh::model {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Protocol protocolOfName(std::string_view protocol) { return core::validation::parseProtocol(protocol); }

Protocol protocolOfKubePort(std::string_view name, std::string_view appProtocol) {
  if (!appProtocol.empty()) {
    // Kubernetes' well-known application protocols (KEP-3726), then Istio's own names.
    std::string ap = lower(appProtocol);
    if (ap == "kubernetes.io/h2c") return Protocol::Http2;
    if (ap == "kubernetes.io/ws" || ap == "kubernetes.io/wss") return Protocol::Http;
    Protocol p = core::validation::parseProtocol(ap);
    if (p != Protocol::Unsupported) return p;
  }
  std::string n = lower(name);
  // "grpc-web" is a protocol name of its own, not "grpc" with a suffix.
  if (n == "grpc-web" || n.starts_with("grpc-web-")) return Protocol::GrpcWeb;
  auto dash = n.find('-');
  return core::validation::parseProtocol(std::string_view(n).substr(0, dash));
}

bool isHttpProtocol(Protocol p) { return core::validation::isHttp(p); }

bool isHttp2Protocol(Protocol p) { return p == Protocol::Http2 || p == Protocol::Grpc; }

}  // namespace mesh::model
