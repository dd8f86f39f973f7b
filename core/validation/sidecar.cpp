// Sidecar rules, after Istio's ValidateSidecar: ingress listeners with unique ports and valid
// binds and default endpoints, egress listeners whose hosts are "namespace/host" entries, at most
// one catch-all (portless) egress listener and only as the last, outbound traffic policy.
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace {

void checkSidecarPort(const Node* port, bool egress, std::string_view bind, std::string_view captureMode,
                      const std::string& path, ValidationContext& ctx) {
  checkPortName(field(port, "name"), sub(path, "name"), ctx);
  checkProtocol(field(port, "protocol"), sub(path, "protocol"), ctx);
  if (const Node* tp = field(port, "targetPort"); intOf(tp).value_or(0) > 0)
    ctx.error(tp, sub(path, "targetPort"), "targetPort has no effect on sidecars");
  const Node* number = field(port, "number");
  if (egress && intOf(number).value_or(0) == 0) {
    // Port 0: a unix domain socket listener.
    if (!bind.starts_with("unix://"))
      ctx.error(port, sub(path, "number"), "port 0 needs a unix:// bind address");
    if (!captureMode.empty() && captureMode != "DEFAULT" && captureMode != "NONE")
      ctx.error(port, path, "captureMode must be DEFAULT or NONE for unix domain socket listeners");
    return;
  }
  if (!number) ctx.error(port, sub(path, "number"), "required field is missing");
  checkPortNumber(number, sub(path, "number"), ctx);
}

void checkBind(const Node* listener, const std::string& path, ValidationContext& ctx) {
  const Node* bind = field(listener, "bind");
  auto b = stringOf(bind);
  if (!b || b->empty()) return;
  if (b->starts_with("unix://")) checkUnixAddress(bind, b->substr(7), sub(path, "bind"), ctx);
  else if (!isIpAddress(*b)) ctx.error(bind, sub(path, "bind"), fmt::format("bind \"{}\" must be an IP address", *b));
}

void checkDefaultEndpoint(const Node* listener, const std::string& path, ValidationContext& ctx) {
  const Node* de = field(listener, "defaultEndpoint");
  auto e = stringOf(de);
  if (!e || e->empty()) return;
  std::string p = sub(path, "defaultEndpoint");
  if (e->starts_with("unix://")) {
    checkUnixAddress(de, e->substr(7), p, ctx);
    return;
  }
  size_t colon = e->rfind(':');
  std::string_view host = colon == std::string_view::npos ? std::string_view() : e->substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? *e : e->substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  int n = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  bool portOk = colon != std::string_view::npos && ec == std::errc() && ptr == port.data() + port.size() && n >= 1 && n <= 65535;
  bool hostOk = host.empty() || host == "127.0.0.1" || host == "0.0.0.0" || host == "::1" || host == "::";
  if (!portOk || !hostOk)
    ctx.error(de, p,
              fmt::format("defaultEndpoint \"{}\" must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or "
                          "unix://<path>",
                          *e));
}

}  // namespace

void validateSidecar(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  checkWorkloadSelector(field(spec, "workloadSelector"), "labels", "spec.workloadSelector", ctx);
  if (!field(spec, "egress") && !field(spec, "ingress") && !field(spec, "outboundTrafficPolicy") &&
      !field(spec, "inboundConnectionPool")) {
    ctx.error(spec ? spec : &r.root(), "spec", "sidecar is empty: set egress, ingress, outboundTrafficPolicy or inboundConnectionPool");
    return;
  }
  std::set<int64_t> ports;
  auto ingress = items(spec, "ingress");
  for (size_t i = 0; i < ingress.size(); ++i) {
    std::string p = at("spec.ingress", i);
    const Node* l = ingress[i];
    const Node* port = field(l, "port");
    if (!isMap(port)) continue;
    checkSidecarPort(port, false, text(l, "bind"), text(l, "captureMode"), sub(p, "port"), ctx);
    checkBind(l, p, ctx);
    if (auto n = intOf(field(port, "number")); n && !ports.insert(*n).second)
      ctx.error(field(port, "number"), sub(sub(p, "port"), "number"), fmt::format("ingress port {} is used twice", *n));
    checkDefaultEndpoint(l, p, ctx);
    if (const Node* tls = field(l, "tls")) {
      std::string tp = sub(p, "tls");
      if (isSet(tls, "subjectAltNames")) ctx.error(field(tls, "subjectAltNames"), sub(tp, "subjectAltNames"), "subjectAltNames is not supported in sidecar ingress tls");
      if (const Node* h = field(tls, "httpsRedirect"); h && h->asBool().value_or(false))
        ctx.error(h, sub(tp, "httpsRedirect"), "httpsRedirect is not supported in sidecar ingress tls");
      if (isSet(tls, "credentialName")) ctx.error(field(tls, "credentialName"), sub(tp, "credentialName"), "credentialName is not supported in sidecar ingress tls");
      std::string_view mode = text(tls, "mode");
      if (mode == "ISTIO_MUTUAL" || mode == "AUTO_PASSTHROUGH")
        ctx.error(field(tls, "mode"), sub(tp, "mode"), fmt::format("mode {} cannot be used in sidecar ingress tls", mode));
      checkServerTls(tls, tp, ctx);
    }
    checkConnectionPool(field(l, "connectionPool"), sub(p, "connectionPool"), ctx);
  }
  checkConnectionPool(field(spec, "inboundConnectionPool"), "spec.inboundConnectionPool", ctx);

  ports.clear();
  std::set<std::string_view> sockets;
  bool catchAll = false;
  auto egress = items(spec, "egress");
  for (size_t i = 0; i < egress.size(); ++i) {
    std::string p = at("spec.egress", i);
    const Node* l = egress[i];
    if (!isMap(l)) continue;
    const Node* port = field(l, "port");
    if (!port) {
      // Only one catch-all egress listener, and it must come last.
      if (catchAll) ctx.error(l, p, "only one egress listener may have no port");
      else if (i + 1 != egress.size()) ctx.error(l, p, "the egress listener without a port must be the last one");
      catchAll = true;
    } else {
      checkSidecarPort(port, true, text(l, "bind"), text(l, "captureMode"), sub(p, "port"), ctx);
      checkBind(l, p, ctx);
      auto n = intOf(field(port, "number")).value_or(0);
      if (n == 0) {
        if (!sockets.insert(text(l, "bind")).second) ctx.error(field(l, "bind"), sub(p, "bind"), "unix domain socket binds must be unique");
      } else if (!ports.insert(n).second) {
        ctx.error(field(port, "number"), sub(sub(p, "port"), "number"), fmt::format("egress port {} is used twice", n));
      }
    }
    auto hosts = items(l, "hosts");
    if (field(l, "hosts") && hosts.empty()) ctx.error(field(l, "hosts"), sub(p, "hosts"), "egress listener needs at least one host");
    for (size_t j = 0; j < hosts.size(); ++j)
      if (auto h = stringOf(hosts[j]))
        if (std::string err = checkNamespaceHost(*h, false); !err.empty()) ctx.error(hosts[j], at(sub(p, "hosts"), j), err);
  }

  const Node* otp = field(spec, "outboundTrafficPolicy");
  if (const Node* proxy = field(otp, "egressProxy")) {
    std::string pp = "spec.outboundTrafficPolicy.egressProxy";
    if (text(otp, "mode") != "ALLOW_ANY") {
      ctx.error(proxy, pp, "egressProxy needs outboundTrafficPolicy mode ALLOW_ANY");
    } else {
      if (auto h = stringOf(field(proxy, "host")))
        if (std::string err = checkFqdn(*h); !err.empty()) ctx.error(field(proxy, "host"), sub(pp, "host"), err);
      if (!field(proxy, "port")) ctx.error(proxy, sub(pp, "port"), "egressProxy needs a port");
      checkDestination(proxy, pp, ctx);
    }
  }
}

}  // namespace mesh::core
