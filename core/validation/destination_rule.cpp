// DestinationRule rules, after Istio's ValidateDestinationRule: host, traffic policies (see
// traffic_policy.cpp), unique DNS-label subset names, exportTo and the workload selector.
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validateDestinationRule(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* host = field(spec, "host");
  if (auto h = stringOf(host))
    if (std::string err = checkWildcardDomain(*h); !err.empty()) ctx.error(host, "spec.host", err);
  checkTrafficPolicy(field(spec, "trafficPolicy"), "spec.trafficPolicy", ctx);
  std::set<std::string_view> names;
  auto subsets = items(spec, "subsets");
  for (size_t i = 0; i < subsets.size(); ++i) {
    std::string p = at("spec.subsets", i);
    const Node* name = field(subsets[i], "name");
    if (auto n = stringOf(name)) {
      if (!names.insert(*n).second) ctx.error(name, sub(p, "name"), fmt::format("duplicate subset name \"{}\"", *n));
      else if (!isDns1123Label(*n))
        ctx.error(name, sub(p, "name"), fmt::format("invalid subset name \"{}\": use a DNS label (lowercase letters, digits, '-')", *n));
    }
    checkLabels(field(subsets[i], "labels"), sub(p, "labels"), ctx);
    checkTrafficPolicy(field(subsets[i], "trafficPolicy"), sub(p, "trafficPolicy"), ctx);
  }
  const Node* selector = field(spec, "workloadSelector");
  checkExportTo(spec, r.namespace_(), false, selector != nullptr, ctx);
  checkWorkloadSelector(selector, "matchLabels", "spec.workloadSelector", ctx);
}

}  // namespace mesh::core
