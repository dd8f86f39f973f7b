// Kubernetes Service rules (apimachinery's ValidateService, the parts a mesh depends on): ports
// in range, names required when there are several and unique, targetPort a port or an IANA
// service name, ExternalName needs externalName, selector labels valid.
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/kube_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validateService(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  std::string_view type = text(spec, "type");
  auto ports = items(spec, "ports");
  std::set<std::string_view> names;
  std::set<std::pair<int64_t, std::string_view>> numbers;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = at("spec.ports", i);
    const Node* port = ports[i];
    if (!isMap(port)) continue;
    const Node* name = field(port, "name");
    if (ports.size() > 1 && (!name || name->text().empty()))
      ctx.error(name ? name : port, sub(p, "name"), "name is required when a service has more than one port");
    if (auto n = stringOf(name); n && !n->empty()) {
      if (!names.insert(*n).second) ctx.error(name, sub(p, "name"), fmt::format("duplicate port name \"{}\"", *n));
      else if (std::string err = checkDns1123Label(*n); !err.empty()) ctx.error(name, sub(p, "name"), "port name " + err);
    }
    const Node* number = field(port, "port");
    checkPortNumber(number, sub(p, "port"), ctx);
    std::string_view proto = text(port, "protocol");
    if (proto.empty()) proto = "TCP";
    if (auto n = intOf(number); n && !numbers.insert({*n, proto}).second)
      ctx.error(number, sub(p, "port"), fmt::format("duplicate port {}/{}", *n, proto));
    checkTargetPort(field(port, "targetPort"), sub(p, "targetPort"), ctx);
    const Node* nodePort = field(port, "nodePort");
    if (auto n = intOf(nodePort)) {
      if (type != "NodePort" && type != "LoadBalancer")
        ctx.error(nodePort, sub(p, "nodePort"), "nodePort needs type NodePort or LoadBalancer");
      else if (*n != 0) checkPortNumber(nodePort, sub(p, "nodePort"), ctx);
    }
  }
  if (type == "ExternalName") {
    const Node* en = field(spec, "externalName");
    if (!en) ctx.error(spec, "spec.externalName", "type ExternalName needs externalName");
    else if (auto s = stringOf(en); s && !isDns1123Subdomain(*s))
      ctx.error(en, "spec.externalName", fmt::format("externalName \"{}\" must be a DNS name", *s));
  } else if (type != "ExternalName" && ports.empty() && text(spec, "clusterIP") != "None") {
    ctx.error(spec ? spec : &r.root(), "spec.ports", "a service needs at least one port (unless it is headless or ExternalName)");
  }
  const Node* clusterIp = field(spec, "clusterIP");
  if (auto ip = stringOf(clusterIp); ip && !ip->empty() && *ip != "None" && !isIpAddress(*ip))
    ctx.error(clusterIp, "spec.clusterIP", fmt::format("clusterIP \"{}\" must be an IP address, \"None\" or empty", *ip));
  checkLabels(field(spec, "selector"), "spec.selector", ctx);
}

}  // namespace mesh::core
