// ServiceEntry rules, after Istio's ValidateServiceEntry: hosts, addresses and their fit with
// the resolution mode, unique ports, endpoints per resolution, exportTo (which allows "~").
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validateServiceEntry(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* selector = field(spec, "workloadSelector");
  checkWorkloadSelector(selector, "labels", "spec.workloadSelector", ctx);
  if (selector && field(spec, "endpoints"))
    ctx.error(field(spec, "endpoints"), "spec.endpoints", "workloadSelector and endpoints cannot both be set");

  auto hosts = items(spec, "hosts");
  if (field(spec, "hosts") && hosts.empty()) ctx.error(field(spec, "hosts"), "spec.hosts", "service entry needs at least one host");
  for (size_t i = 0; i < hosts.size(); ++i) {
    auto h = stringOf(hosts[i]);
    if (!h) continue;
    std::string p = at("spec.hosts", i);
    if (*h == "*") {
      ctx.error(hosts[i], p, "host \"*\" is not allowed in a service entry");
    } else if (std::string err = checkWildcardDomain(*h); !err.empty()) {
      ctx.error(hosts[i], p, err);
    } else if (h->find('*') != std::string_view::npos && !h->starts_with("*.")) {
      ctx.warning(hosts[i], p, fmt::format("partial wildcard \"{}\" is not supported", *h));
    }
  }

  std::string_view resolution = text(spec, "resolution");
  if (resolution.empty()) resolution = "NONE";  // the proto default
  auto addresses = items(spec, "addresses");
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto a = stringOf(addresses[i]);
    if (!a) continue;
    if (std::string err = checkIpOrCidr(*a); !err.empty()) ctx.error(addresses[i], at("spec.addresses", i), err);
    else if (a->find('/') != std::string_view::npos && resolution != "NONE" && resolution != "STATIC")
      ctx.error(addresses[i], at("spec.addresses", i),
                fmt::format("CIDR address {} needs resolution NONE or STATIC, not {}", *a, resolution));
  }

  std::vector<std::string_view> portNames;
  std::set<int64_t> portNumbers;
  auto ports = items(spec, "ports");
  bool multiHostProblem = false;
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = at("spec.ports", i);
    const Node* name = field(ports[i], "name");
    const Node* number = field(ports[i], "number");
    if (auto n = stringOf(name)) {
      if (std::find(portNames.begin(), portNames.end(), *n) != portNames.end())
        ctx.error(name, sub(p, "name"), fmt::format("duplicate port name \"{}\"", *n));
      portNames.push_back(*n);
      checkPortName(name, sub(p, "name"), ctx);
    }
    if (auto n = intOf(number)) {
      if (!portNumbers.insert(*n).second) ctx.error(number, sub(p, "number"), fmt::format("duplicate port number {}", *n));
      checkPortNumber(number, sub(p, "number"), ctx);
    }
    if (const Node* tp = field(ports[i], "targetPort"); intOf(tp).value_or(0) != 0) {
      checkPortNumber(tp, sub(p, "targetPort"), ctx);
      if (resolution == "NONE") ctx.warning(tp, sub(p, "targetPort"), "targetPort has no effect when resolution is NONE");
    }
    checkProtocol(field(ports[i], "protocol"), sub(p, "protocol"), ctx);
    Protocol proto = parseProtocol(text(ports[i], "protocol"));
    if (!isHttp(proto) && !isTls(proto)) multiHostProblem = true;
  }

  auto endpoints = items(spec, "endpoints");
  if (resolution == "NONE") {
    if (!endpoints.empty()) ctx.error(field(spec, "endpoints"), "spec.endpoints", "resolution NONE cannot have endpoints");
    if (selector) ctx.warning(selector, "spec.workloadSelector", "workloadSelector has no effect when resolution is NONE");
  } else if (resolution == "STATIC") {
    for (size_t i = 0; i < endpoints.size(); ++i)
      checkWorkloadEntry(endpoints[i], at("spec.endpoints", i), &portNames, false, ctx);
    if (endpoints.empty() && !selector)
      ctx.warning(spec, "spec", "resolution STATIC without endpoints or workloadSelector has no endpoints of its own");
  } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    if (endpoints.empty()) {
      for (size_t i = 0; i < hosts.size(); ++i)
        if (auto h = stringOf(hosts[i]); h && *h != "*" && checkWildcardDomain(*h).empty() && !checkFqdn(*h).empty())
          ctx.error(hosts[i], at("spec.hosts", i),
                    fmt::format("host \"{}\" must be a fully qualified name (no wildcard) when resolution is {} without endpoints",
                                *h, resolution));
    }
    if (resolution == "DNS_ROUND_ROBIN" && endpoints.size() > 1)
      ctx.error(field(spec, "endpoints"), "spec.endpoints", "resolution DNS_ROUND_ROBIN allows at most one endpoint");
    for (size_t i = 0; i < endpoints.size(); ++i)
      checkWorkloadEntry(endpoints[i], at("spec.endpoints", i), &portNames, true, ctx);
    if (selector) ctx.warning(selector, "spec.workloadSelector", fmt::format("workloadSelector has no effect when resolution is {}", resolution));
  }
  // Plain TCP cannot tell several hosts apart (no Host header, no SNI) unless resolution is NONE.
  if (resolution != "NONE" && hosts.size() > 1 && multiHostProblem)
    ctx.error(field(spec, "hosts"), "spec.hosts",
              "several hosts need HTTP or TLS ports (a plain TCP port cannot tell them apart) unless resolution is NONE");
  checkExportTo(spec, r.namespace_(), true, false, ctx);
}

}  // namespace mesh::core
