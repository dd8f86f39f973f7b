// One VirtualService's routes as describe shows them (istioctl's printVirtualService): for each
// http, tcp and tls route, which destinations name the described host and whether they can
// reach the described workloads (no subset, or a subset of the DestinationRule whose labels
// select one of them), the match conditions in istioctl's words ("Match: /api* when headers
// are end-user=jason"), and subset routing the DestinationRule cannot serve. Pure; main thread.
#pragma once

#include <string>
#include <string_view>

#include "cli/describe/describe.h"

namespace mesh::cli::describe {

struct RouteTarget {
  std::string host;    // the service's FQDN
  std::string domain;  // cluster domain, to resolve short destination hosts
  const DestinationRuleView* destinationRule = nullptr;
  std::string destinationRuleName;  // kname() of it
  bool knownWorkloads = true;       // false: the service selects nothing, subsets cannot be judged
  std::string noun;                 // "pod", "workload" or "service"
};

VirtualServiceView virtualServiceView(const core::Resource& vs, const RouteTarget& target);

// Whether any route or mirror of the VirtualService names `host` (short names resolved in the
// VirtualService's namespace).
bool routesToHost(const core::Resource& vs, std::string_view host, std::string_view domain);

// istioctl's renderMatches(): "everything" without matches, else each match rendered.
std::string renderMatches(const core::Node* matches);

}  // namespace mesh::cli::describe
