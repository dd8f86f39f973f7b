// describe(): finds the target, then asks the traffic and security halves about it.
#include "cli/describe/describe.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli/describe/security.h"
#include "cli/describe/traffic.h"
#include "cli/describe/workloads.h"

namespace mesh::cli::describe {
namespace {

using analysis::kinds::Pod;
using analysis::kinds::WorkloadEntry;

// istioctl's inferNsInfo: "name.namespace" splits at the last dot.
std::pair<std::string, std::string> splitName(std::string_view arg, std::string_view defaultNs) {
  size_t dot = arg.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == arg.size()) return {std::string(arg), std::string(defaultNs)};
  return {std::string(arg.substr(0, dot)), std::string(arg.substr(dot + 1))};
}

std::string_view nounOf(const Workload& w) { return w.kind == "Pod" ? "pod" : "workload"; }

bool strictSomewhere(const PeerAuthenticationView& pa) {
  return pa.mode == "STRICT" ||
         std::any_of(pa.portModes.begin(), pa.portModes.end(), [](const auto& p) { return p.second == "STRICT"; });
}

void addPeerAuthentication(Description& d, PeerAuthenticationView view) {
  for (PeerAuthenticationView& seen : d.peerAuthentication) {
    if (seen.mode == view.mode && seen.portModes == view.portModes && seen.applied == view.applied) {
      seen.workload += ", " + view.workload;
      return;
    }
  }
  d.peerAuthentication.push_back(std::move(view));
}

void describeSecurity(const analysis::Snapshot& snapshot, std::string_view noun, Description& d) {
  std::vector<std::string> callers;
  bool strict = false;
  for (const Workload& w : d.workloads) {
    if (!w.meshed) continue;  // no sidecar: nothing enforces PeerAuthentication or authorization
    PeerAuthenticationView pa = effectivePeerAuthentication(snapshot, w);
    bool workloadStrict = strictSomewhere(pa);
    strict = strict || workloadStrict;
    // A DestinationRule that makes clients speak plaintext or their own TLS to a STRICT workload.
    for (ServiceSection& s : d.services) {
      if (!workloadStrict || !s.destinationRule) continue;
      const std::string& mode = s.destinationRule->tlsMode;
      if (mode.empty() || mode == "ISTIO_MUTUAL") continue;
      std::string warning = fmt::format("WARNING: DestinationRule {} sets TLS mode {}, but the {} enforces STRICT mTLS: "
                                        "requests from sidecars will fail",
                                        kname(s.destinationRule->rule->name(), s.destinationRule->rule->namespace_(),
                                              d.describeNamespace),
                                        mode, noun);
      if (std::find(s.warnings.begin(), s.warnings.end(), warning) == s.warnings.end()) s.warnings.push_back(warning);
    }
    if (workloadStrict)
      for (std::string& c : plaintextCallers(snapshot, w))
        if (std::find(callers.begin(), callers.end(), c) == callers.end()) callers.push_back(std::move(c));
    addPeerAuthentication(d, std::move(pa));
    for (AuthorizationPolicyView& p : authorizationPoliciesFor(snapshot, w)) {
      bool seen = std::any_of(d.authorizationPolicies.begin(), d.authorizationPolicies.end(),
                              [&](const AuthorizationPolicyView& q) { return q.policy == p.policy; });
      if (!seen) d.authorizationPolicies.push_back(p);
    }
  }
  if (strict && !callers.empty()) {
    constexpr size_t kShown = 5;
    std::vector<std::string> shown(callers.begin(), callers.begin() + static_cast<long>(std::min(kShown, callers.size())));
    std::string more = callers.size() > kShown ? fmt::format(" and {} more", callers.size() - kShown) : "";
    d.securityWarnings.push_back(fmt::format("WARNING: STRICT mTLS rejects plaintext: these workloads have no sidecar "
                                             "and cannot call this {}: {}{}",
                                             noun, fmt::join(shown, ", "), more));
  }
  authorizationFindings(d.authorizationPolicies, d.authorizationSummary, d.authorizationWarnings);
}

}  // namespace

Result<Description> describe(const analysis::Snapshot& snapshot, const Request& request) {
  Description d;
  d.request = request;
  d.describeNamespace = request.namespace_.empty() ? "default" : request.namespace_;
  auto [name, ns] = splitName(request.name, d.describeNamespace);

  if (request.kind == TargetKind::Service) {
    auto svc = findService(snapshot, name, ns, request.name, d.workloads);
    if (!svc) return fail(ErrorCode::NotFound, fmt::format("services \"{}\" not found", name));
    ServiceSection section;
    section.service = std::move(*svc);
    describeTraffic(snapshot, d.workloads, "service", d.describeNamespace, section);
    d.services.push_back(std::move(section));
    describeSecurity(snapshot, "service", d);
    return d;
  }

  const core::Resource* target = nullptr;
  if (request.kind == TargetKind::Pod) {
    target = snapshot.find(Pod, ns, name);
    if (!target) return fail(ErrorCode::NotFound, fmt::format("pods \"{}\" not found", name));
  } else {
    // A WorkloadEntry first (local mesh workloads are), else a Pod of that name.
    target = snapshot.find(WorkloadEntry, ns, name);
    if (!target) target = snapshot.find(Pod, ns, name);
    if (!target) return fail(ErrorCode::NotFound, fmt::format("workloadentries.networking.istio.io \"{}\" not found", name));
  }
  Workload w = workloadOf(snapshot, *target);
  std::string shown = kname(w.name, w.namespace_, d.describeNamespace);
  std::string_view noun = nounOf(w);
  if (!w.meshed) d.workloadWarnings.push_back(fmt::format("WARNING: {} is not part of mesh; no Istio sidecar", shown));
  d.workloads.push_back(w);
  for (ServiceView& svc : servicesSelecting(snapshot, w)) {
    ServiceSection section;
    section.service = std::move(svc);
    describeTraffic(snapshot, d.workloads, noun, d.describeNamespace, section);
    d.services.push_back(std::move(section));
  }
  if (d.services.empty())
    d.workloadWarnings.push_back(fmt::format(
        "WARNING: No Kubernetes Services or ServiceEntries select {} {} (see "
        "https://istio.io/latest/docs/ops/deployment/application-requirements/)",
        noun, shown));
  describeSecurity(snapshot, noun, d);
  return d;
}

}  // namespace mesh::cli::describe
