// WorkloadEntry and WorkloadGroup rules, after Istio's ValidateWorkloadEntry and
// ValidateWorkloadGroup; checkWorkloadEntry also serves ServiceEntry endpoints.
#include <algorithm>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {
namespace validation {

void checkUnixAddress(const Node* node, std::string_view address, const std::string& path, ValidationContext& ctx) {
  if (address.empty()) ctx.error(node, path, "unix address must not be empty");
  else if (!address.starts_with('@') && (address.front() != '/' || address.back() == '/'))
    ctx.error(node, path, fmt::format("unix address \"{}\" must be an absolute path to a file", address));
}

void checkWorkloadEntry(const Node* we, const std::string& path, const std::vector<std::string_view>* servicePorts,
                        bool allowFqdn, ValidationContext& ctx) {
  if (!isMap(we)) return;
  const Node* addr = field(we, "address");
  std::string_view address = text(we, "address");
  std::string ap = sub(path, "address");
  if (address.empty()) {
    if (text(we, "network").empty()) ctx.error(addr ? addr : we, ap, "address is required unless network is set");
  } else if (address.starts_with("unix://")) {
    checkUnixAddress(addr, address.substr(7), ap, ctx);
    if (isSet(we, "ports")) ctx.error(field(we, "ports"), sub(path, "ports"), "a unix address cannot have ports");
  } else if (!isIpAddress(address)) {
    if (!allowFqdn)
      ctx.error(addr, ap, fmt::format("address \"{}\" must be an IP address", address));
    else if (!checkFqdn(address).empty())
      ctx.error(addr, ap, fmt::format("address \"{}\" is neither an IP address nor a valid FQDN", address));
  }
  for (const auto& e : entries(we, "ports")) {
    std::string_view name = e.key->text();
    std::string pp = keyed(sub(path, "ports"), name);
    if (!isDns1123Label(name)) ctx.error(e.key, pp, fmt::format("invalid port name \"{}\": use a DNS label", name));
    else if (servicePorts && std::find(servicePorts->begin(), servicePorts->end(), name) == servicePorts->end())
      ctx.error(e.key, pp, fmt::format("port \"{}\" is not defined by the service entry's ports", name));
    checkPortNumber(e.value, pp, ctx);
  }
  checkLabels(field(we, "labels"), sub(path, "labels"), ctx);
  const Node* sa = field(we, "serviceAccount");
  if (auto s = stringOf(sa); s && !s->empty() && !isDns1123Subdomain(*s))
    ctx.error(sa, sub(path, "serviceAccount"), fmt::format("serviceAccount \"{}\" must be a DNS subdomain", *s));
}

}  // namespace validation

using namespace validation;

void validateWorkloadEntry(const Resource& r, ValidationContext& ctx) {
  checkWorkloadEntry(r.spec(), "spec", nullptr, true, ctx);
}

void validateWorkloadGroup(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  // The template's address is filled in per workload, so it is not required here.
  checkLabels(field(field(spec, "metadata"), "labels"), "spec.metadata.labels", ctx);
  checkLabels(field(field(spec, "template"), "labels"), "spec.template.labels", ctx);
  const Node* probe = field(spec, "probe");
  if (!isMap(probe)) return;
  for (std::string_view f : {"periodSeconds", "initialDelaySeconds", "timeoutSeconds", "successThreshold", "failureThreshold"}) {
    const Node* v = field(probe, f);
    if (intOf(v).value_or(0) < 0) ctx.error(v, sub("spec.probe", f), fmt::format("{} must not be negative", f));
  }
  if (const Node* h = field(probe, "httpGet")) {
    checkPortNumber(field(h, "port"), "spec.probe.httpGet.port", ctx);
    const Node* scheme = field(h, "scheme");
    if (auto s = stringOf(scheme); s && *s != "HTTP" && *s != "HTTPS")
      ctx.error(scheme, "spec.probe.httpGet.scheme", fmt::format("scheme \"{}\" is not allowed: use HTTP or HTTPS", *s));
    auto headers = items(h, "httpHeaders");
    for (size_t i = 0; i < headers.size(); ++i)
      if (std::string err = checkHeaderName(text(headers[i], "name")); !err.empty())
        ctx.error(headers[i], sub(at("spec.probe.httpGet.httpHeaders", i), "name"), err);
  } else if (const Node* t = field(probe, "tcpSocket")) {
    checkPortNumber(field(t, "port"), "spec.probe.tcpSocket.port", ctx);
  } else if (const Node* e = field(probe, "exec")) {
    if (!isSet(e, "command")) ctx.error(e, "spec.probe.exec.command", "exec probe needs a command");
  } else if (const Node* g = field(probe, "grpc")) {
    checkPortNumber(field(g, "port"), "spec.probe.grpc.port", ctx);
  } else {
    ctx.error(probe, "spec.probe", "probe needs one of httpGet, tcpSocket, exec or grpc");
  }
}

}  // namespace mesh::core
