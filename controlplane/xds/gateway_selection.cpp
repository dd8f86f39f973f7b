#include "controlplane/xds/gateway_selection.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/generator.h"

namespace mesh::xds {
namespace {

using core::Node;
using model::text;

// Istio's sanitizeServerHostNamespace.
std::vector<std::string> sanitizeHosts(const Node* hosts, std::string_view gatewayNs) {
  std::vector<std::string> out;
  for (std::string h : model::stringList(hosts)) {
    auto slash = h.find('/');
    if (slash != std::string::npos) {
      std::string ns = h.substr(0, slash), host = h.substr(slash + 1);
      if (ns == ".") h = fmt::format("{}/{}", gatewayNs, host);
      else if (ns == "*" && host == "*") return {"*"};
      else if (ns == "*") h = host;
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

std::string GatewayServer::gatewayName() const { return fmt::format("{}/{}", gateway->namespace_(), gateway->name()); }

std::string GatewayServer::routeName() const {
  std::string suffix = bind.empty() ? "" : "." + bind;
  if (model::isHttpProtocol(protocol)) return fmt::format("http.{}{}", port, suffix);
  bool passthrough = tlsMode == "PASSTHROUGH" || tlsMode == "AUTO_PASSTHROUGH";
  if (protocol == model::Protocol::Https && !passthrough)
    return fmt::format("https.{}.{}.{}.{}{}", port, portName, gateway->name(), gateway->namespace_(), suffix);
  return "";
}

std::vector<GatewayServer> gatewaysFor(const model::ConfigSnapshot& snapshot, const model::Proxy& proxy) {
  std::vector<GatewayServer> out;
  if (proxy.type != model::ProxyType::Router) return out;
  for (const core::Resource* gw : snapshot.ofKind("networking.istio.io", "Gateway")) {
    const Node* spec = gw->spec();
    if (!spec || !model::selectorSelects(spec->get("selector"), proxy.labels)) continue;
    for (const Node* server : model::items(spec->get("servers"))) {
      GatewayServer s;
      s.gateway = gw;
      s.server = server;
      const Node* port = server->get("port");
      s.port = model::uint32At(port, "number").value_or(0);
      s.portName = std::string(text(port, "name"));
      s.protocol = model::protocolOfName(text(port, "protocol"));
      s.bind = std::string(text(server, "bind"));
      s.hosts = sanitizeHosts(server->get("hosts"), gw->namespace_());
      const Node* tls = server->get("tls");
      s.tlsMode = std::string(text(tls, "mode"));
      if (tls && s.tlsMode.empty()) s.tlsMode = "SIMPLE";  // the API default when tls is present
      s.httpsRedirect = model::boolAt(tls, "httpsRedirect").value_or(false);
      if (s.port != 0) out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<GatewayServer> gatewaysFor(const ProxyView& view) { return gatewaysFor(view.snapshot, view.proxy); }

std::optional<std::string_view> serverHostFor(std::string_view serverHost, std::string_view vsNamespace) {
  auto slash = serverHost.find('/');
  if (slash == std::string_view::npos) return serverHost;
  std::string_view ns = serverHost.substr(0, slash);
  if (ns != "*" && ns != vsNamespace) return std::nullopt;
  return serverHost.substr(slash + 1);
}

}  // namespace mesh::xds
