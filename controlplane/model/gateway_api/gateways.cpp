// Gateway → Istio Gateway, after istiod's convertGateways/buildListener: one Istio Gateway per
// Gateway of an Istio class, one server per listener. Listeners Istio cannot serve (UDP, refused
// certificates) are left out with a warning; the rest still bind.
#include <fmt/format.h>

#include "controlplane/model/gateway_api/context.h"
#include "controlplane/model/node_values.h"

namespace mesh::model::gateway_api {
namespace {

constexpr std::string_view kControllerName = "istio.io/gateway-controller";
constexpr std::string_view kDefaultClass = "istio";
// The label Istio's gateway Deployments put on their pods (pilot/pkg/config/kube/gateway).
constexpr std::string_view kGatewayNameLabel = "istio.io/gateway-name";
constexpr std::string_view kTlsTerminateModeKey = "gateway.istio.io/tls-terminate-mode";

// Istio's getGatewayClasses: classes whose controllerName is Istio's, plus "istio" itself
// unless a GatewayClass of that name belongs to another controller.
std::set<std::string> istioClasses(const Inputs& in) {
  std::set<std::string> classes;
  bool defaultDeclared = false;
  for (const core::Resource* c : in.gatewayClasses) {
    if (c->name() == kDefaultClass) defaultDeclared = true;
    if (text(c->spec(), "controllerName") == kControllerName) classes.insert(std::string(c->name()));
  }
  if (!defaultDeclared) classes.insert(std::string(kDefaultClass));
  return classes;
}

// The route kinds a listener admits: allowedRoutes.kinds, else the defaults of its protocol,
// as Istio's generateSupportedKinds.
std::set<std::string> admittedKinds(const core::Node* listener, std::string_view protocol, bool passthrough) {
  std::set<std::string> supported;
  if (protocol == "HTTP" || protocol == "HTTPS") supported = {"HTTPRoute", "GRPCRoute"};
  else if (protocol == "TCP") supported = {"TCPRoute"};
  else if (protocol == "TLS") supported = {passthrough ? "TLSRoute" : "TCPRoute"};
  const core::Node* allowed = listener->get("allowedRoutes");
  const core::Node* kinds = allowed ? allowed->get("kinds") : nullptr;
  if (!kinds || kinds->size() == 0) return supported;
  std::set<std::string> out;
  for (const core::Node* k : items(kinds)) {
    std::string_view group = text(k, "group");
    if (k->get("group") && group != kGatewayGroup) continue;
    if (supported.contains(std::string(text(k, "kind")))) out.insert(std::string(text(k, "kind")));
  }
  return out;
}

// tls of a server, or nullopt with a warning when the listener cannot be served.
std::optional<Value> serverTls(Context& ctx, const core::Resource& gw, const core::Node* tls, const std::string& path) {
  core::Mark m = markOf(tls);
  Value out = Value::map(m);
  std::string_view mode = text(tls, "mode");
  if (mode == "Passthrough") {
    out.set("mode", Value::string("PASSTHROUGH", markAt(tls, "mode")));
    return out;
  }
  const core::Node* options = tls->get("options");
  bool mutual = text(options, kTlsTerminateModeKey) == "MUTUAL";
  out.set("mode", Value::string(mutual ? "MUTUAL" : "SIMPLE", markAt(tls, "mode")));
  std::vector<Value> credentials;
  auto refs = items(tls->get("certificateRefs"));
  for (size_t i = 0; i < refs.size(); ++i) {
    const core::Node* ref = refs[i];
    std::string field = fmt::format("{}.certificateRefs[{}]", path, i);
    std::string_view group = text(ref, "group"), kind = text(ref, "kind"), name = text(ref, "name");
    if (!group.empty() || (!kind.empty() && kind != "Secret")) {
      ctx.warn(
          gw, ref, field,
          fmt::format("invalid certificate reference {}/{}: only Secrets are supported; listener skipped", kind, name));
      return std::nullopt;
    }
    std::string_view ns = text(ref, "namespace");
    if (ns.empty() || ns == gw.namespace_()) {
      // Same namespace: a plain credentialName, read where the gateway's pods run.
      credentials.push_back(Value::string(name, markOf(ref)));
      continue;
    }
    if (!ctx.granted("Gateway", gw.namespace_(), "Secret", ns, name)) {
      ctx.warn(gw, ref, field,
               fmt::format("certificateRef {}/{} not accessible to a Gateway in namespace \"{}\" (missing a "
                           "ReferenceGrant?); listener skipped",
                           ns, name, gw.namespace_()));
      return std::nullopt;
    }
    // Istio's resource name for a Secret a Gateway reads across namespaces.
    credentials.push_back(Value::string(fmt::format("kubernetes-gateway://{}/{}", ns, name), markOf(ref)));
  }
  if (credentials.empty()) {
    ctx.warn(gw, tls, path + ".certificateRefs", "tls termination needs a certificateRef; listener skipped");
    return std::nullopt;
  }
  if (credentials.size() == 1) {
    out.set("credentialName", std::move(credentials.front()));
  } else {
    Value& list = out.set("credentialNames", Value::list(markAt(tls, "certificateRefs")));
    for (Value& c : credentials) list.push(std::move(c));
  }
  return out;
}

// Which namespaces' routes a listener admits (allowedRoutes.namespaces, default Same).
void admittedNamespaces(const Context& ctx, const core::Resource& gw, const core::Node* l, Listener& out) {
  const core::Node* allowed = l->get("allowedRoutes");
  const core::Node* namespaces = allowed ? allowed->get("namespaces") : nullptr;
  std::string_view from = text(namespaces, "from");
  if (from == "All") out.allNamespaces = true;
  else if (from == "Selector") out.namespaces = ctx.selectNamespaces(namespaces->get("selector"));
  else out.namespaces.insert(std::string(gw.namespace_()));
}

// The gateway pods: those of the Service a Hostname address names (a manually deployed
// gateway, e.g. istio-ingressgateway), else the pods Istio deploys for this Gateway.
Value gatewaySelector(const Context& ctx, const core::Resource& gw) {
  auto addresses = items(gw.spec()->get("addresses"));
  if (addresses.size() == 1 && text(addresses[0], "type") == "Hostname") {
    std::string_view value = text(addresses[0], "value");
    std::string_view name = value, ns = gw.namespace_();
    if (size_t dot = value.find('.'); dot != std::string_view::npos) {
      name = value.substr(0, dot);
      std::string_view rest = value.substr(dot + 1);
      size_t svc = rest.find(".svc.");
      ns = rest.substr(0, svc);
      if (svc == std::string_view::npos || rest.substr(svc + 5) != ctx.domain()) name = {};
    }
    const core::Resource* svc = name.empty() ? nullptr : ctx.service(ns, name);
    Labels labels = labelsFrom(svc && svc->spec() ? svc->spec()->get("selector") : nullptr);
    if (!labels.empty()) {
      Value sel = Value::map(markOf(addresses[0]));
      for (const auto& [k, v] : labels) sel.set(k, Value::string(v, markOf(addresses[0])));
      return sel;
    }
  }
  Value sel = Value::map(markOf(gw.metadata()));
  sel.set(kGatewayNameLabel, Value::string(gw.name(), markAt(gw.metadata(), "name")));
  return sel;
}

void convertGateway(Context& ctx, const core::Resource& gw) {
  GatewayInfo info;
  info.source = &gw;
  std::string name = fmt::format("{}-{}", gw.name(), kGeneratedSuffix);
  info.internalName = fmt::format("{}/{}", gw.namespace_(), name);
  Value servers = Value::list(markAt(gw.spec(), "listeners"));
  auto listeners = items(gw.spec()->get("listeners"));
  for (size_t i = 0; i < listeners.size(); ++i) {
    const core::Node* l = listeners[i];
    std::string path = fmt::format("spec.listeners[{}]", i);
    Listener li;
    li.name = std::string(text(l, "name"));
    li.port = uint32At(l, "port").value_or(0);
    li.protocol = std::string(text(l, "protocol"));
    li.hostname = std::string(text(l, "hostname"));
    if (li.protocol != "HTTP" && li.protocol != "HTTPS" && li.protocol != "TLS" && li.protocol != "TCP") {
      ctx.warn(gw, l->get("protocol"), path + ".protocol",
               fmt::format("protocol {} is not supported by Istio; listener skipped", li.protocol));
      continue;
    }
    Value server = Value::map(markOf(l));
    Value& port = server.set("port", Value::map(markAt(l, "port")));
    port.set("number", Value::number(li.port, markAt(l, "port")));
    // Listener names are unique within a Gateway, as Istio needs server port names to be.
    port.set("name", Value::string(li.name, markAt(l, "name")));
    port.set("protocol", Value::string(li.protocol, markAt(l, "protocol")));
    admittedNamespaces(ctx, gw, l, li);
    std::string host = li.hostname.empty() ? "*" : li.hostname;
    Value& hosts = server.set("hosts", Value::list(markAt(l, "hostname")));
    if (li.allNamespaces) hosts.push(Value::string("*/" + host, hosts.mark()));
    for (const std::string& ns : li.namespaces) hosts.push(Value::string(ns + "/" + host, hosts.mark()));
    if (hosts.items().empty()) {
      ctx.warn(gw, l->get("allowedRoutes"), path + ".allowedRoutes.namespaces.selector",
               "the selector matches no namespace, so no route can attach; listener skipped");
      continue;
    }
    bool passthrough = false;
    if (const core::Node* tls = l->get("tls"); tls && (li.protocol == "HTTPS" || li.protocol == "TLS")) {
      passthrough = text(tls, "mode") == "Passthrough";
      auto t = serverTls(ctx, gw, tls, path + ".tls");
      if (!t) continue;
      server.set("tls", std::move(*t));
    }
    li.passthrough = passthrough;
    li.kinds = admittedKinds(l, li.protocol, passthrough);
    servers.push(std::move(server));
    info.listeners.push_back(std::move(li));
  }
  if (servers.items().empty()) {
    ctx.warn(gw, gw.spec()->get("listeners"), "spec.listeners",
             "no listener could be converted; the Gateway serves nothing");
    return;
  }
  Value root = Value::map(gw.mark());
  root.set("apiVersion", Value::string("networking.istio.io/v1", gw.mark()));
  root.set("kind", Value::string("Gateway", gw.mark()));
  root.set("metadata", generatedMetadata(name, gw, false));
  Value& spec = root.set("spec", Value::map(markOf(gw.spec())));
  spec.set("selector", gatewaySelector(ctx, gw));
  spec.set("servers", std::move(servers));
  ctx.emit(root, gw);
  ctx.gateways().emplace(std::pair(std::string(gw.namespace_()), std::string(gw.name())), std::move(info));
}

}  // namespace

void convertGateways(Context& ctx) {
  std::set<std::string> classes = istioClasses(ctx.inputs());
  for (const core::Resource* gw : ctx.inputs().gateways) {
    // Gateways of other classes belong to other controllers.
    if (!gw->spec() || !classes.contains(std::string(text(gw->spec(), "gatewayClassName")))) continue;
    convertGateway(ctx, *gw);
  }
}

}  // namespace mesh::model::gateway_api
