// Istio Gateway rules, after Istio's ValidateGateway and validateServer: servers with hosts in
// [namespace/]host form, a named port with a known protocol, TLS settings exactly where the
// protocol needs them, unique port names.
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

void checkUnixPath(const Node* node, std::string_view path, const std::string& fieldPath, ValidationContext& ctx) {
  if (path.starts_with('@')) return;  // abstract socket
  if (path.empty() || path.front() != '/' || path.back() == '/')
    ctx.error(node, fieldPath, fmt::format("unix socket \"{}\" must be an absolute path to a file", path));
}

void checkServer(const Node* server, const std::string& path, ValidationContext& ctx) {
  if (!isMap(server)) return;
  auto hosts = items(server, "hosts");
  if (field(server, "hosts") && hosts.empty()) ctx.error(field(server, "hosts"), sub(path, "hosts"), "server needs at least one host");
  for (size_t i = 0; i < hosts.size(); ++i)
    if (auto h = stringOf(hosts[i]))
      if (std::string err = checkNamespaceHost(*h, true); !err.empty()) ctx.error(hosts[i], at(sub(path, "hosts"), i), err);

  const Node* port = field(server, "port");
  std::string_view bind = text(server, "bind");
  bool unix = bind.starts_with("unix://");
  const Node* tls = field(server, "tls");
  if (isMap(port)) {
    std::string pp = sub(path, "port");
    const Node* number = field(port, "number");
    if (intOf(number).value_or(0) > 0 || !unix) {
      if (!number) ctx.error(port, sub(pp, "number"), "required field is missing");
      else checkPortNumber(number, sub(pp, "number"), ctx);
    }
    if (unix && intOf(number).value_or(0) != 0)
      ctx.error(number, sub(pp, "number"), "port number must be 0 when bind is a unix domain socket");
    if (const Node* tp = field(port, "targetPort"); intOf(tp).value_or(0) > 0)
      ctx.error(tp, sub(pp, "targetPort"), "targetPort has no effect on gateways");
    const Node* proto = field(port, "protocol");
    checkProtocol(proto, sub(pp, "protocol"), ctx);
    Protocol p = parseProtocol(text(port, "protocol"));
    if (stringOf(proto) && p != Protocol::Unsupported) {
      if (isTls(p) && !tls) {
        ctx.error(server, sub(path, "tls"), fmt::format("server with protocol {} needs tls settings", proto->text()));
      } else if (!isTls(p) && tls) {
        // Plain HTTP servers may only carry httpsRedirect.
        bool redirectOnly = isHttp(p) && (text(tls, "mode").empty() || text(tls, "mode") == "PASSTHROUGH" ||
                                          text(tls, "mode") == "AUTO_PASSTHROUGH") &&
                            !isSet(tls, "caCertificates") && !isSet(tls, "privateKey") && !isSet(tls, "serverCertificate");
        if (!redirectOnly)
          ctx.error(tls, sub(path, "tls"), fmt::format("server with protocol {} cannot have tls settings", proto->text()));
      }
      const Node* redirect = field(tls, "httpsRedirect");
      if (!isHttp(p) && redirect && redirect->asBool().value_or(false))
        ctx.warning(redirect, sub(sub(path, "tls"), "httpsRedirect"), "httpsRedirect only applies to HTTP servers");
    }
  }
  if (unix) {
    checkUnixPath(field(server, "bind"), bind.substr(7), sub(path, "bind"), ctx);
  } else if (!bind.empty() && !isIpAddress(bind)) {
    ctx.error(field(server, "bind"), sub(path, "bind"), fmt::format("bind \"{}\" must be an IP address or unix://path", bind));
  }
  checkServerTls(tls, sub(path, "tls"), ctx);
}

}  // namespace

void validateGateway(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* servers = field(spec, "servers");
  if (servers && servers->isSequence() && servers->size() == 0)
    ctx.error(servers, "spec.servers", "gateway needs at least one server");
  std::set<std::string_view> portNames;
  auto list = items(spec, "servers");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = at("spec.servers", i);
    checkServer(list[i], p, ctx);
    const Node* name = field(field(list[i], "port"), "name");
    if (auto n = stringOf(name); n && !portNames.insert(*n).second)
      ctx.error(name, sub(sub(p, "port"), "name"), fmt::format("duplicate port name \"{}\": port names must be unique across servers", *n));
  }
  checkLabels(field(spec, "selector"), "spec.selector", ctx);
}

}  // namespace mesh::core
