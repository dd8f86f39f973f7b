#include "controlplane/xds/security/policy_selection.h"

#include <tuple>

#include "controlplane/model/node_values.h"

namespace mesh::xds::security {
namespace {

using core::Node;
using model::items;
using model::text;

constexpr std::string_view kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

bool targetsProxyGateway(const core::Resource& policy, const model::Proxy& proxy) {
  const Node* spec = policy.spec();
  std::vector<const Node*> refs;
  if (const Node* one = spec->get("targetRef")) refs.push_back(one);
  for (const Node* r : items(spec->get("targetRefs"))) refs.push_back(r);
  auto gateway = proxy.labels.find(kGatewayNameLabel);
  if (gateway == proxy.labels.end()) return false;
  for (const Node* ref : refs) {
    std::string_view ns = text(ref, "namespace");
    if (text(ref, "kind") == "Gateway" && text(ref, "name") == gateway->second &&
        (ns.empty() || ns == policy.namespace_()) && policy.namespace_() == proxy.namespace_)
      return true;
  }
  return false;
}

std::string_view creationTimestamp(const core::Resource& r) { return text(r.metadata(), "creationTimestamp"); }

}  // namespace

std::vector<const core::Resource*> workloadPolicies(const ProxyView& view, std::string_view kind) {
  std::vector<const core::Resource*> out;
  for (const core::Resource* p : view.snapshot.policiesFor(kSecurityGroup, kind, view.proxy)) {
    const Node* spec = p->spec();
    if (!spec) continue;
    bool bound = spec->get("targetRef") || !items(spec->get("targetRefs")).empty();
    if (bound && !targetsProxyGateway(*p, view.proxy)) continue;
    out.push_back(p);
  }
  return out;
}

bool olderThan(const core::Resource& a, const core::Resource& b) {
  std::string_view ta = creationTimestamp(a), tb = creationTimestamp(b);
  return std::tuple(ta.empty(), ta, a.namespace_(), a.name()) <
         std::tuple(tb.empty(), tb, b.namespace_(), b.name());
}

}  // namespace mesh::xds::security
