// describe's traffic half: the DestinationRule Istio applies to a host (client namespace, then
// the service's, then the root namespace; an exact host before the longest wildcard; exportTo
// honoured), its subsets against the described workloads, and the VirtualServices that route
// to the host, route by route, with the pitfalls found on the way. Pure; main thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/describe/describe.h"

namespace mesh::cli::describe {

// "name" when `ns` is the namespace described in, "name.ns" otherwise (istioctl's kname()).
std::string kname(std::string_view name, std::string_view ns, std::string_view describeNs);

// The DestinationRule a sidecar in `clientNs` uses for `host` (an FQDN), or nullptr.
const core::Resource* destinationRuleFor(const analysis::Snapshot& snapshot, std::string_view host,
                                         std::string_view serviceNs, std::string_view clientNs);

// Fills the section's DestinationRule, VirtualServices, ingress exposure and warnings for the
// service's host as seen for `targets` (the workloads whose subsets count as matching).
// `noun` names the target in messages: "pod", "workload" or "service".
void describeTraffic(const analysis::Snapshot& snapshot, const std::vector<Workload>& targets, std::string_view noun,
                     std::string_view describeNs, ServiceSection& section);

}  // namespace mesh::cli::describe
