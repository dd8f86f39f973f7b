// Gateway API Gateway rules (the CRD's CEL validations and webhook): unique listener names,
// ports in range, known protocols, hostnames, TLS exactly where the protocol needs it, and
// unique port/protocol/hostname combinations.
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/gateway_api_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace validation {

std::string checkGatewayHostname(std::string_view host) {
  std::string_view rest = host.starts_with("*.") ? host.substr(2) : host;
  if (isIpAddress(host)) return fmt::format("hostname \"{}\" must be a DNS name, not an IP address", host);
  if (host.size() > 253 || !isDns1123Subdomain(rest))
    return fmt::format("invalid hostname \"{}\": use a lowercase DNS name, optionally starting with *.", host);
  return {};
}

}  // namespace validation

void validateKubeGateway(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  auto listeners = items(spec, "listeners");
  const Node* list = field(spec, "listeners");
  if (list && list->isSequence() && (listeners.empty() || listeners.size() > 64))
    ctx.error(list, "spec.listeners", "a gateway needs 1 to 64 listeners");
  std::set<std::string_view> names;
  std::set<std::tuple<int64_t, std::string_view, std::string_view>> combos;
  for (size_t i = 0; i < listeners.size(); ++i) {
    std::string p = at("spec.listeners", i);
    const Node* l = listeners[i];
    if (!isMap(l)) continue;
    const Node* name = field(l, "name");
    if (auto n = stringOf(name)) {
      if (!names.insert(*n).second) ctx.error(name, sub(p, "name"), fmt::format("duplicate listener name \"{}\"", *n));
      else if (std::string err = checkDns1123Subdomain(*n); !err.empty()) ctx.error(name, sub(p, "name"), "listener name " + err);
    }
    checkPortNumber(field(l, "port"), sub(p, "port"), ctx);
    const Node* protoNode = field(l, "protocol");
    std::string_view proto = text(l, "protocol");
    bool core = proto == "HTTP" || proto == "HTTPS" || proto == "TLS" || proto == "TCP" || proto == "UDP";
    // Implementation-specific protocols are domain-prefixed: example.com/PROTO.
    if (protoNode && !core && proto.find('/') == std::string_view::npos)
      ctx.error(protoNode, sub(p, "protocol"),
                fmt::format("protocol \"{}\" is not supported: use HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed name", proto));
    const Node* hostname = field(l, "hostname");
    if (auto h = stringOf(hostname)) {
      if (std::string err = checkGatewayHostname(*h); !err.empty()) ctx.error(hostname, sub(p, "hostname"), err);
      if (proto == "TCP" || proto == "UDP") ctx.error(hostname, sub(p, "hostname"), fmt::format("hostname must not be set for protocol {}", proto));
    }
    const Node* tls = field(l, "tls");
    if (proto == "HTTPS" || proto == "TLS") {
      if (!tls) ctx.error(l, sub(p, "tls"), fmt::format("listener with protocol {} needs tls", proto));
    } else if (tls && (proto == "HTTP" || proto == "TCP" || proto == "UDP")) {
      ctx.error(tls, sub(p, "tls"), fmt::format("listener with protocol {} cannot have tls", proto));
    }
    if (tls) {
      std::string_view mode = text(tls, "mode");
      if (mode.empty()) mode = "Terminate";
      if (proto == "HTTPS" && mode == "Passthrough")
        ctx.error(field(tls, "mode"), sub(p, "tls.mode"), "tls mode Passthrough is not allowed for protocol HTTPS: use protocol TLS");
      if (mode == "Terminate" && !isSet(tls, "certificateRefs") && !isSet(tls, "options"))
        ctx.error(tls, sub(p, "tls.certificateRefs"), "tls mode Terminate needs certificateRefs");
    }
    auto port = intOf(field(l, "port"));
    if (port && !combos.insert({*port, proto, text(l, "hostname")}).second)
      ctx.error(l, p, "port, protocol and hostname must be unique across listeners");
  }
  auto addresses = items(spec, "addresses");
  for (size_t i = 0; i < addresses.size(); ++i) {
    std::string_view type = text(addresses[i], "type");
    const Node* value = field(addresses[i], "value");
    if ((type.empty() || type == "IPAddress") && stringOf(value) && !isIpAddress(value->text()))
      ctx.error(value, sub(at("spec.addresses", i), "value"), fmt::format("\"{}\" is not a valid IP address", value->text()));
  }
}

}  // namespace mesh::core
