// PeerAuthentication → the effective mTLS mode of a workload port, after Istio's
// ComposePeerAuthentication (pilot/pkg/security/authn): one policy per level (mesh: root
// namespace without selector; namespace: no selector; workload: a selector, outside the root
// namespace), the oldest winning within a level; UNSET (or no mtls) inherits from the level
// above; the workload policy's portLevelMtls overrides it for that workload port.
#include <charconv>
#include <optional>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/security/policy_selection.h"
#include "controlplane/xds/security/security_filters.h"

namespace mesh::xds {
namespace {

using core::Node;
using model::text;

// nullopt for UNSET: inherit.
std::optional<MtlsMode> modeOf(const Node* mtls) {
  std::string_view mode = text(mtls, "mode");
  if (mode == "DISABLE") return MtlsMode::Disable;
  if (mode == "PERMISSIVE") return MtlsMode::Permissive;
  if (mode == "STRICT") return MtlsMode::Strict;
  return std::nullopt;
}

bool hasSelector(const core::Resource& policy) {
  const Node* selector = policy.spec()->get("selector");
  const Node* labels = selector ? selector->get("matchLabels") : nullptr;
  return labels && labels->size() > 0;
}

// The workload policy's portLevelMtls entry for `port` (keys are port numbers as text).
const Node* portLevel(const core::Resource& policy, uint32_t port) {
  const Node* ports = policy.spec()->get("portLevelMtls");
  if (!ports) return nullptr;
  for (const auto& e : ports->entries()) {
    std::string_view k = e.key->text();
    uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), n);
    if (ec == std::errc() && ptr == k.data() + k.size() && n == port) return e.value;
  }
  return nullptr;
}

}  // namespace

MtlsMode peerAuthenticationMode(const ProxyView& view, uint32_t port) {
  const std::string& root = view.snapshot.options().rootNamespace;
  const core::Resource* mesh = nullptr;
  const core::Resource* ns = nullptr;
  const core::Resource* workload = nullptr;
  auto keepOldest = [](const core::Resource*& slot, const core::Resource* p) {
    if (!slot || security::olderThan(*p, *slot)) slot = p;
  };
  for (const core::Resource* p : security::workloadPolicies(view, "PeerAuthentication")) {
    if (!hasSelector(*p)) keepOldest(p->namespace_() == root ? mesh : ns, p);
    else if (p->namespace_() != root) keepOldest(workload, p);
    // A root-namespace policy with a selector is ignored, as in Istio.
  }
  MtlsMode mode = MtlsMode::Permissive;
  for (const core::Resource* level : {mesh, ns, workload})
    if (level)
      if (auto m = modeOf(level->spec()->get("mtls"))) mode = *m;
  if (workload)
    if (const Node* perPort = portLevel(*workload, port))
      if (auto m = modeOf(perPort)) mode = *m;
  return mode;
}

MtlsMode namespaceMtlsMode(const model::ConfigSnapshot& snapshot, std::string_view ns) {
  const std::string& root = snapshot.options().rootNamespace;
  const core::Resource* mesh = nullptr;
  const core::Resource* own = nullptr;
  for (const core::Resource* p : snapshot.ofKind("security.istio.io", "PeerAuthentication")) {
    if (!p->spec() || hasSelector(*p)) continue;
    const core::Resource*& slot = p->namespace_() == root ? mesh : own;
    if (p->namespace_() != root && p->namespace_() != ns) continue;
    if (!slot || security::olderThan(*p, *slot)) slot = p;
  }
  MtlsMode mode = MtlsMode::Permissive;
  for (const core::Resource* level : {mesh, own})
    if (level)
      if (auto m = modeOf(level->spec()->get("mtls"))) mode = *m;
  return mode;
}

}  // namespace mesh::xds
