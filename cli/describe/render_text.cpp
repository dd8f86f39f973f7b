// The text form, in istioctl's `x describe` layout: headings at column 0, facts indented three
// spaces per level, "--------------------" between a workload, each service, security and each
// ingress exposure. Plain text only (no colour), so a pipe gets the same as a terminal.
#include <fmt/format.h>

#include "cli/describe/describe.h"
#include "cli/describe/traffic.h"

namespace mesh::cli::describe {
namespace {

constexpr std::string_view kSeparator = "--------------------";

class Out {
 public:
  void line(int indent, std::string_view text) { out_ += fmt::format("{}{}\n", std::string(indent * 3, ' '), text); }
  void lines(const std::vector<Line>& ls, int base = 0) {
    for (const Line& l : ls) line(base + l.indent, l.text);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string labelsText(const analysis::Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(fmt::format("{}={}", k, v));
  return fmt::format("{}", fmt::join(parts, ", "));
}

void printWorkload(Out& out, const Workload& w, std::string_view ns) {
  std::string name = kname(w.name, w.namespace_, ns);
  std::vector<std::string> ports;
  for (const WorkloadPort& p : w.ports) {
    // istioctl suppresses "/TCP" and prints any other protocol.
    std::string proto = p.protocol == "TCP" ? "" : "/" + p.protocol;
    ports.push_back(fmt::format("{}{} ({})", p.number, proto, w.kind == "Pod" ? p.owner : p.name));
  }
  if (w.kind == "Pod") {
    out.line(0, "Pod: " + name);
    if (w.meshed) out.line(1, "Pod Revision: " + w.revision);
    if (ports.empty()) out.line(1, "Pod does not expose ports");
    else out.line(1, fmt::format("Pod Ports: {}", fmt::join(ports, ", ")));
  } else {
    out.line(0, "WorkloadEntry: " + name);
    if (!w.address.empty()) out.line(1, "Address: " + w.address);
    if (ports.empty()) out.line(1, "Workload does not expose ports");
    else out.line(1, fmt::format("Workload Ports: {}", fmt::join(ports, ", ")));
  }
  out.line(1, "Service Account: " + w.serviceAccount);
  if (!w.labels.empty()) out.line(1, "Labels: " + labelsText(w.labels));
}

void printService(Out& out, const ServiceSection& s, const Description& d, std::string_view target) {
  const ServiceView& v = s.service;
  std::string name = kname(v.name, v.namespace_, d.describeNamespace);
  if (v.kind == "Service") out.line(0, "Service: " + name);
  else out.line(0, fmt::format("ServiceEntry: {} for \"{}\"", name, v.host));
  for (const ServicePortView& p : v.ports) {
    std::string line = fmt::format("Port: {} {}/{}", p.name, p.number, p.protocol);
    if (p.target) line += fmt::format(" targets {} port {}", target, *p.target);
    else if (!p.targetName.empty()) line += fmt::format(" targets port \"{}\", which the {} does not declare", p.targetName, target);
    out.line(1, line);
  }
  if (d.request.kind == TargetKind::Service) {
    std::vector<std::string> names;
    for (const Workload& w : d.workloads) names.push_back(kname(w.name, w.namespace_, d.describeNamespace));
    if (names.empty()) out.line(1, fmt::format("{} \"{}\" has no {}.", v.kind, name, v.kind == "Service" ? "pods" : "workloads"));
    else out.line(1, fmt::format("{}: {}", v.kind == "Service" ? "Pods" : "Workloads", fmt::join(names, ", ")));
  }
  if (const auto& dr = s.destinationRule) {
    out.line(0, fmt::format("DestinationRule: {} for \"{}\"", kname(dr->rule->name(), dr->rule->namespace_(), d.describeNamespace),
                            dr->host));
    if (!dr->subsets.empty()) {
      if (dr->matchingSubsets.empty() && d.request.kind != TargetKind::Service)
        out.line(1, fmt::format("WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets {})",
                                fmt::join(dr->nonMatchingSubsets, ",")));
      out.line(1, fmt::format("Matching subsets: {}", fmt::join(dr->matchingSubsets, ",")));
      if (!dr->nonMatchingSubsets.empty())
        out.line(2, fmt::format("(Non-matching subsets {})", fmt::join(dr->nonMatchingSubsets, ",")));
    }
    if (!dr->hasTrafficPolicy) out.line(1, "No Traffic Policy");
    if (!dr->tlsMode.empty()) out.line(1, "Traffic Policy TLS Mode: " + dr->tlsMode);
    if (!dr->policies.empty()) out.line(1, fmt::format("Policies: {}", fmt::join(dr->policies, "/")));
    out.lines(dr->details);
    for (const std::string& other : dr->shadowedFor)
      out.line(1, fmt::format("Sidecars in the namespace of {} use that DestinationRule instead", other));
  }
  for (const VirtualServiceView& vs : s.virtualServices) {
    out.line(0, "VirtualService: " + kname(vs.vs->name(), vs.vs->namespace_(), d.describeNamespace));
    out.lines(vs.lines);
  }
  for (const std::string& w : s.warnings) out.line(0, w);
}

void printSecurity(Out& out, const Description& d) {
  for (const PeerAuthenticationView& pa : d.peerAuthentication) {
    out.line(0, "Effective PeerAuthentication:");
    if (d.peerAuthentication.size() > 1) out.line(1, "Workloads: " + pa.workload);
    out.line(1, "Workload mTLS mode: " + pa.mode);
    if (!pa.portModes.empty()) {
      out.line(1, "Port Level mTLS mode:");
      for (const auto& [port, mode] : pa.portModes) out.line(2, fmt::format("{}: {}", port, mode));
    }
    if (!pa.applied.empty()) {
      out.line(0, "Applied PeerAuthentication:");
      out.line(1, fmt::format("{}", fmt::join(pa.applied, ", ")));
    }
  }
  for (const std::string& w : d.securityWarnings) out.line(0, w);
  if (!d.authorizationPolicies.empty()) {
    std::vector<std::string> names;
    for (const AuthorizationPolicyView& p : d.authorizationPolicies)
      names.push_back(fmt::format("{}.{}", p.policy->name(), p.policy->namespace_()));
    out.line(0, "Applied AuthorizationPolicy:");
    out.line(1, fmt::format("{}", fmt::join(names, ", ")));
    for (const AuthorizationPolicyView& p : d.authorizationPolicies) {
      std::string what = !p.hasRules      ? "no rules, matches no request"
                         : p.matchesAll   ? "matches every request"
                                          : fmt::format("{} rule(s)", p.rules);
      bool dryRun = p.policy->annotation("istio.io/dry-run") == "true";
      out.line(1, fmt::format("{} {}.{}: {}{}", p.action, p.policy->name(), p.policy->namespace_(), what,
                              dryRun ? " (dry run: not enforced)" : ""));
    }
    for (const std::string& s : d.authorizationSummary) out.line(1, s);
  }
  for (const std::string& w : d.authorizationWarnings) out.line(0, w);
}

void printIngress(Out& out, const Description& d) {
  for (const ServiceSection& s : d.services) {
    for (size_t v = 0; v < s.gatewayVirtualServices.size(); ++v) {
      bool exposed = false;
      for (const IngressView& in : s.ingress) {
        if (in.virtualService != v || in.url.empty()) continue;
        if (!exposed) out.line(0, kSeparator);
        exposed = true;
        size_t slash = in.gateway.find('/');
        out.line(0, fmt::format("Exposed on Ingress Gateway {} (Gateway {})", in.url,
                                kname(in.gateway.substr(slash + 1), in.gateway.substr(0, slash), d.describeNamespace)));
      }
      if (!exposed) continue;
      const VirtualServiceView& vs = s.gatewayVirtualServices[v];
      out.line(0, "VirtualService: " + kname(vs.vs->name(), vs.vs->namespace_(), d.describeNamespace));
      out.lines(vs.lines);
    }
  }
}

}  // namespace

std::string renderText(const Description& d) {
  Out out;
  bool service = d.request.kind == TargetKind::Service;
  std::string target = "pod";
  if (!d.workloads.empty() && d.workloads.front().kind == "WorkloadEntry") target = "workload";
  if (!service) {
    printWorkload(out, d.workloads.front(), d.describeNamespace);
    for (const std::string& w : d.workloadWarnings) out.line(0, w);
  }
  for (size_t i = 0; i < d.services.size(); ++i) {
    if (!service || i > 0) out.line(0, kSeparator);
    printService(out, d.services[i], d, target);
  }
  if (!d.peerAuthentication.empty() || !d.authorizationPolicies.empty() || !d.securityWarnings.empty()) {
    out.line(0, kSeparator);
    printSecurity(out, d);
  }
  printIngress(out, d);
  return out.take();
}

}  // namespace mesh::cli::describe
