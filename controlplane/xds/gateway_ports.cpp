#include "controlplane/xds/gateway_ports.h"

#include <algorithm>
#include <map>
#include <set>

#include "controlplane/model/node_values.h"
#include "controlplane/model/service_targets.h"
#include "controlplane/xds/route_action.h"
#include "controlplane/xds/tcp_routes.h"

namespace mesh::xds {
namespace {

// Istio's resolvePorts for selector-based Gateways: a server port naming a port of the gateway's
// own Service listens on that port's targetPort (80 → 8080 for unprivileged gateways); other
// ports are used as written.
uint32_t resolvePort(uint32_t number, const std::vector<model::ServiceTarget>& targets) {
  for (const model::ServiceTarget& t : targets)
    if (t.port->port == number) return t.endpoint->port;
  return number;
}

// Istio's canMergeProtocols: plaintext servers share a port only when both speak HTTP.
bool canMerge(model::Protocol incoming, model::Protocol existing) {
  return (model::isHttpProtocol(incoming) || incoming == existing) && model::isHttpProtocol(existing);
}

}  // namespace

const core::Node* serverTls(const GatewayServer& s) {
  const core::Node* tls = s.server ? s.server->get("tls") : nullptr;
  return tls && tls->isMapping() ? tls : nullptr;
}

bool isPassthroughServer(const GatewayServer& s) {
  return s.tlsMode == "PASSTHROUGH" || s.tlsMode == "AUTO_PASSTHROUGH";
}

bool isTlsServer(const GatewayServer& s) { return serverTls(s) && !model::isHttpProtocol(s.protocol); }

std::vector<std::string> serverSniHosts(const GatewayServer& s) {
  std::set<std::string> out;
  for (const std::string& h : s.hosts) {
    auto slash = h.find('/');
    out.insert(slash == std::string::npos ? h : h.substr(slash + 1));
  }
  return {out.begin(), out.end()};
}

std::vector<GatewayPort> mergeGatewayServers(const ProxyView& view) {
  std::vector<model::ServiceTarget> targets = model::serviceTargets(view.snapshot, view.proxy);
  using Key = std::pair<uint32_t, std::string>;  // listener port, bind
  std::map<Key, GatewayPort> ports;
  std::map<Key, bool> plaintext;
  std::map<Key, std::set<std::string>> tlsHosts;
  std::set<std::string> tlsRoutes;
  for (GatewayServer& s : gatewaysFor(view)) {
    Key key{resolvePort(s.port, targets), s.bind};
    if (serverTls(s)) {
      // Two TLS servers on one listener with a common host would give Envoy identical SNI
      // matches: the later server is dropped whole.
      std::set<std::string>& known = tlsHosts[key];
      if (std::ranges::any_of(s.hosts, [&](const std::string& h) { return known.contains(h); })) continue;
      known.insert(s.hosts.begin(), s.hosts.end());
    }
    auto it = ports.find(key);
    if (it == ports.end()) {
      plaintext[key] = !isTlsServer(s);
      if (!model::isHttpProtocol(s.protocol) && s.servesHttp()) tlsRoutes.insert(s.routeName());
      ports[key] = GatewayPort{key.first, key.second, {}};
      ports[key].servers.push_back(std::move(s));
      continue;
    }
    GatewayPort& gp = it->second;
    if (plaintext[key]) {
      if (!canMerge(s.protocol, gp.servers.front().protocol) || !s.servesHttp()) continue;
    } else {
      // Each terminating HTTPS server needs an RDS name of its own.
      if (s.servesHttp() && !tlsRoutes.insert(s.routeName()).second) continue;
      if (!serverTls(s)) continue;  // a TLS listener only takes servers with TLS settings
    }
    gp.servers.push_back(std::move(s));
  }
  std::vector<GatewayPort> out;
  for (auto& [key, gp] : ports) out.push_back(std::move(gp));
  return out;
}

bool gatewayHostsMatch(const GatewayServer& server, const core::Resource& vs, std::string_view domain) {
  for (const core::Node* vh : model::items(vs.spec() ? vs.spec()->get("hosts") : nullptr)) {
    std::string vsHost = resolveHost(vh->text(), vs.namespace_(), domain);
    for (const std::string& h : server.hosts) {
      auto gwHost = serverHostFor(h, vs.namespace_());
      if (gwHost && (model::hostMatches(*gwHost, vsHost) || model::hostMatches(vsHost, *gwHost))) return true;
    }
  }
  return false;
}

}  // namespace mesh::xds
