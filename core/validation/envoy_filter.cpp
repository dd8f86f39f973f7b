// EnvoyFilter rules, after Istio's envoyfilter validation: every patch says what it applies to,
// which operation, and (except REMOVE) a value; matches fit the object class patched; proxy
// version matches are RE2 regexes.
#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validateEnvoyFilter(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* selector = field(spec, "workloadSelector");
  checkWorkloadSelector(selector, "labels", "spec.workloadSelector", ctx);
  if (selector && isSet(spec, "targetRefs"))
    ctx.error(field(spec, "targetRefs"), "spec.targetRefs", "workloadSelector and targetRefs cannot both be set");
  auto patches = items(spec, "configPatches");
  for (size_t i = 0; i < patches.size(); ++i) {
    std::string p = at("spec.configPatches", i);
    const Node* cp = patches[i];
    if (!isMap(cp)) continue;
    std::string_view applyTo = text(cp, "applyTo");
    if (applyTo.empty() || applyTo == "INVALID") ctx.error(cp, sub(p, "applyTo"), "patch needs applyTo");
    const Node* patch = field(cp, "patch");
    if (!patch) {
      ctx.error(cp, sub(p, "patch"), "required field is missing");
    } else {
      std::string_view op = text(patch, "operation");
      if (op.empty() || op == "INVALID") ctx.error(patch, sub(sub(p, "patch"), "operation"), "patch needs an operation");
      else if (op != "REMOVE" && !field(patch, "value"))
        ctx.error(patch, sub(sub(p, "patch"), "value"), fmt::format("operation {} needs a value", op));
    }
    const Node* match = field(cp, "match");
    if (const Node* pv = field(field(match, "proxy"), "proxyVersion"))
      checkRegexNode(pv, sub(sub(sub(p, "match"), "proxy"), "proxyVersion"), ctx);
    // The match must describe the kind of object patched.
    bool listenerClass = applyTo == "LISTENER" || applyTo == "FILTER_CHAIN" || applyTo == "NETWORK_FILTER" ||
                         applyTo == "HTTP_FILTER" || applyTo == "LISTENER_FILTER";
    bool routeClass = applyTo == "ROUTE_CONFIGURATION" || applyTo == "VIRTUAL_HOST" || applyTo == "HTTP_ROUTE";
    const Node* listener = field(match, "listener");
    const Node* route = field(match, "routeConfiguration");
    const Node* cluster = field(match, "cluster");
    bool anyObject = listener || route || cluster;
    std::string mp = sub(p, "match");
    if (listenerClass && anyObject && !listener)
      ctx.error(match, mp, fmt::format("applyTo {} needs a listener match", applyTo));
    else if (routeClass && anyObject && !route)
      ctx.error(match, mp, fmt::format("applyTo {} needs a routeConfiguration match", applyTo));
    else if (applyTo == "CLUSTER" && anyObject && !cluster)
      ctx.error(match, mp, "applyTo CLUSTER needs a cluster match");
    if (listener) {
      const Node* pn = field(listener, "portNumber");
      if (intOf(pn).value_or(0) != 0) checkPortNumber(pn, sub(sub(mp, "listener"), "portNumber"), ctx);
    }
  }
}

}  // namespace mesh::core
