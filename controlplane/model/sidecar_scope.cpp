#include "controlplane/model/sidecar_scope.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"

namespace mesh::model {
namespace {

struct EgressHost {
  std::string ns;    // "*", "~" (nothing), or a namespace ("." already resolved)
  std::string host;  // "*", "*.example.com", "payments-api.payments.svc.cluster.local"
};

std::vector<EgressHost> egressHosts(const core::Resource& sidecar) {
  std::vector<EgressHost> out;
  for (const core::Node* egress : items(sidecar.spec() ? sidecar.spec()->get("egress") : nullptr))
    for (const std::string& h : stringList(egress->get("hosts"))) {
      auto slash = h.find('/');
      if (slash == std::string::npos) continue;  // validation requires ns/host
      EgressHost e{h.substr(0, slash), h.substr(slash + 1)};
      if (e.ns == ".") e.ns = std::string(sidecar.namespace_());
      out.push_back(std::move(e));
    }
  return out;
}

bool allowedByEgress(const std::vector<EgressHost>& hosts, const Service& svc) {
  for (const EgressHost& e : hosts) {
    if (e.ns == "~") continue;
    if (e.ns != "*" && e.ns != svc.namespace_) continue;
    if (hostMatches(e.host, svc.hostname)) return true;
  }
  return false;
}

}  // namespace

SidecarScope SidecarScope::compute(const ConfigSnapshot& snapshot, const Proxy& proxy) {
  SidecarScope scope;
  if (proxy.type == ProxyType::Sidecar) scope.sidecar_ = snapshot.sidecarFor(proxy);
  std::vector<EgressHost> egress;
  if (scope.sidecar_) egress = egressHosts(*scope.sidecar_);
  // A Sidecar without egress listeners leaves egress as Istio's default: every namespace.
  if (scope.sidecar_ && egress.empty() && !(scope.sidecar_->spec() && scope.sidecar_->spec()->get("egress"))) egress.push_back({"*", "*"});
  std::set<std::string_view> seen;
  // The proxy's own namespace first so its declaration of a shared hostname wins.
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& svc : snapshot.registry().services()) {
      bool own = svc->namespace_ == proxy.namespace_;
      if ((pass == 0) != own) continue;
      if (!svc->visibleFrom(proxy.namespace_)) continue;
      if (scope.sidecar_ && !allowedByEgress(egress, *svc)) continue;
      if (seen.insert(svc->hostname).second) scope.services_.push_back(svc.get());
    }
  std::ranges::sort(scope.services_, {}, &Service::hostname);
  // Namespace "*": this proxy sees what a sidecar of any namespace sees (see
  // ConfigSnapshot::outboundIsNamespaceIndependent), so their generated config is shared.
  bool anyNamespace = proxy.type == ProxyType::Sidecar && !scope.sidecar_ && snapshot.outboundIsNamespaceIndependent();
  scope.key_ = fmt::format("{}/{}/{}", proxy.type == ProxyType::Router ? "router" : "sidecar",
                           anyNamespace ? std::string_view("*") : std::string_view(proxy.namespace_),
                           scope.sidecar_ ? scope.sidecar_->name() : "");
  return scope;
}

}  // namespace mesh::model
