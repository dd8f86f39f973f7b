#include "cli/describe/security.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "analyzers/util/service_lookup.h"
#include "analyzers/util/workloads.h"

namespace mesh::cli::describe {
namespace {

using analysis::kinds::AuthorizationPolicy;
using analysis::kinds::Deployment;
using analysis::kinds::Namespace;
using analysis::kinds::PeerAuthentication;
using analysis::kinds::Pod;
using core::Node;

std::span<const Node* const> itemsOf(const Node* n) { return n ? n->items() : std::span<const Node* const>(); }

const Node* matchLabels(const core::Resource& policy) {
  const Node* selector = policy.spec() ? policy.spec()->get("selector") : nullptr;
  return selector ? selector->get("matchLabels") : nullptr;
}

bool selectsWorkload(const core::Resource& policy, const Workload& w) {
  return analysis::LabelSelector::fromSet(matchLabels(policy)).matches(w.labels);
}

// Istio keeps the oldest policy of a level: creationTimestamp first (objects without one, as in
// files, after those with one), then namespace and name.
bool olderThan(const core::Resource& a, const core::Resource& b) {
  std::string_view ta = analysis::scalarAt(a.metadata(), "creationTimestamp");
  std::string_view tb = analysis::scalarAt(b.metadata(), "creationTimestamp");
  return std::tuple(ta.empty(), ta, a.namespace_(), a.name()) < std::tuple(tb.empty(), tb, b.namespace_(), b.name());
}

// nullopt: UNSET or absent, inherited from the level above.
std::optional<std::string> modeOf(const Node* mtls) {
  std::string_view mode = analysis::scalarAt(mtls, "mode");
  if (mode == "STRICT" || mode == "PERMISSIVE" || mode == "DISABLE") return std::string(mode);
  return std::nullopt;
}

std::vector<const core::Resource*> candidates(const analysis::Snapshot& snapshot, analysis::KindRef kind,
                                              const Workload& w) {
  std::vector<const core::Resource*> out;
  const std::string& root = snapshot.rootNamespace();
  for (const core::Resource* p : snapshot.inNamespace(kind, root)) out.push_back(p);
  if (w.namespace_ != root)
    for (const core::Resource* p : snapshot.inNamespace(kind, w.namespace_)) out.push_back(p);
  return out;
}

// --- AuthorizationPolicy rule coverage: does every request rule `a` matches also match `d`?
// Answers true only when sure; anything it cannot compare counts as not covered.

// Istio's string match: exact, "*", "prefix*" or "*suffix".
bool patternCovers(std::string_view pattern, std::string_view value) {
  if (pattern == "*") return true;
  if (pattern.size() > 1 && pattern.ends_with('*')) return value.starts_with(pattern.substr(0, pattern.size() - 1));
  if (pattern.size() > 1 && pattern.starts_with('*')) return value.ends_with(pattern.substr(1));
  return pattern == value;
}

std::vector<std::string> listAt(const Node* map, std::string_view key) {
  return analysis::stringList(map ? map->get(key) : nullptr);
}

// For a positive field: `a` must constrain it to values `d` covers. For a negated field ("not"
// prefix): `a` must exclude at least what `d` excludes.
bool fieldCovered(const Node* d, const Node* a, std::string_view key) {
  auto dv = listAt(d, key);
  if (dv.empty()) return true;
  auto av = listAt(a, key);
  if (key.starts_with("not")) {
    return std::all_of(dv.begin(), dv.end(), [&](const std::string& x) { return std::find(av.begin(), av.end(), x) != av.end(); });
  }
  if (av.empty()) return false;
  return std::all_of(av.begin(), av.end(), [&](const std::string& v) {
    return std::any_of(dv.begin(), dv.end(), [&](const std::string& p) { return patternCovers(p, v); });
  });
}

bool blockCovered(const Node* d, const Node* a, std::initializer_list<std::string_view> fields) {
  for (std::string_view f : fields) {
    if (!fieldCovered(d, a, f)) return false;
    std::string negated = "not" + std::string(1, static_cast<char>(::toupper(f[0]))) + std::string(f.substr(1));
    if (!fieldCovered(d, a, negated)) return false;
  }
  return true;
}

// d's from (or to) list: each of a's entries must be covered by one of d's.
bool clausesCovered(const Node* dRule, const Node* aRule, std::string_view list, std::string_view inner,
                    std::initializer_list<std::string_view> fields) {
  auto dItems = itemsOf(dRule->get(list));
  if (dItems.empty()) return true;
  auto aItems = itemsOf(aRule->get(list));
  if (aItems.empty()) return false;
  return std::all_of(aItems.begin(), aItems.end(), [&](const Node* a) {
    return std::any_of(dItems.begin(), dItems.end(),
                       [&](const Node* d) { return blockCovered(d->get(inner), a->get(inner), fields); });
  });
}

bool conditionsCovered(const Node* dRule, const Node* aRule) {
  for (const Node* dc : itemsOf(dRule->get("when"))) {
    std::string_view key = analysis::scalarAt(dc, "key");
    bool found = false;
    for (const Node* ac : itemsOf(aRule->get("when")))
      if (analysis::scalarAt(ac, "key") == key && fieldCovered(dc, ac, "values") && fieldCovered(dc, ac, "notValues"))
        found = true;
    if (!found) return false;
  }
  return true;
}

bool ruleCovers(const Node* deny, const Node* allow) {
  return clausesCovered(deny, allow, "from", "source",
                        {"principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks"}) &&
         clausesCovered(deny, allow, "to", "operation", {"hosts", "ports", "methods", "paths"}) &&
         conditionsCovered(deny, allow);
}

bool emptyRule(const Node* rule) {
  if (!rule || rule->isNull()) return true;
  return itemsOf(rule->get("from")).empty() && itemsOf(rule->get("to")).empty() && itemsOf(rule->get("when")).empty();
}

bool enforced(const AuthorizationPolicyView& p) { return p.policy->annotation("istio.io/dry-run") != "true"; }

// Named as istioctl's "Applied ..." lines name policies: always name.namespace.
std::string policyName(const AuthorizationPolicyView& p) {
  return fmt::format("{}.{}", p.policy->name(), p.policy->namespace_());
}

}  // namespace

PeerAuthenticationView effectivePeerAuthentication(const analysis::Snapshot& snapshot, const Workload& w) {
  const std::string& root = snapshot.rootNamespace();
  const core::Resource* mesh = nullptr;
  const core::Resource* ns = nullptr;
  const core::Resource* workload = nullptr;
  PeerAuthenticationView view;
  view.workload = w.name;
  auto keepOldest = [](const core::Resource*& slot, const core::Resource* p) {
    if (!slot || olderThan(*p, *slot)) slot = p;
  };
  for (const core::Resource* p : candidates(snapshot, PeerAuthentication, w)) {
    if (!p->spec() || !selectsWorkload(*p, w)) continue;
    view.applied.push_back(fmt::format("{}.{}", p->name(), p->namespace_()));
    const Node* labels = matchLabels(*p);
    if (!labels || labels->size() == 0) keepOldest(p->namespace_() == root ? mesh : ns, p);
    else if (p->namespace_() != root) keepOldest(workload, p);
    // A root-namespace policy with a selector is ignored, as in Istio.
  }
  view.mode = "PERMISSIVE";
  for (const core::Resource* level : {mesh, ns, workload})
    if (level)
      if (auto m = modeOf(level->spec()->get("mtls"))) view.mode = *m;
  if (const Node* ports = workload ? workload->spec()->get("portLevelMtls") : nullptr) {
    for (const core::MapEntry& e : ports->entries()) {
      std::string_view k = e.key->text();
      uint32_t port = 0;
      auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), port);
      if (ec != std::errc() || ptr != k.data() + k.size()) continue;
      view.portModes.emplace_back(port, modeOf(e.value).value_or(view.mode));
    }
    std::sort(view.portModes.begin(), view.portModes.end());
  }
  return view;
}

std::vector<AuthorizationPolicyView> authorizationPoliciesFor(const analysis::Snapshot& snapshot, const Workload& w) {
  std::vector<AuthorizationPolicyView> out;
  for (const core::Resource* p : candidates(snapshot, AuthorizationPolicy, w)) {
    const Node* spec = p->spec();
    if (spec && (spec->get("targetRef") || !itemsOf(spec->get("targetRefs")).empty())) continue;
    if (!selectsWorkload(*p, w)) continue;
    AuthorizationPolicyView v;
    v.policy = p;
    v.action = std::string(analysis::scalarAt(spec, "action"));
    if (v.action.empty()) v.action = "ALLOW";
    auto rules = itemsOf(spec ? spec->get("rules") : nullptr);
    v.rules = rules.size();
    v.hasRules = !rules.empty();
    v.matchesAll = std::any_of(rules.begin(), rules.end(), emptyRule);
    out.push_back(v);
  }
  return out;
}

void authorizationFindings(const std::vector<AuthorizationPolicyView>& policies, std::vector<std::string>& summary, std::vector<std::string>& warnings) {
  std::vector<const AuthorizationPolicyView*> allow, deny;
  for (const AuthorizationPolicyView& p : policies) {
    if (!enforced(p)) continue;
    if (p.action == "ALLOW") allow.push_back(&p);
    if (p.action == "DENY") deny.push_back(&p);
  }
  for (const AuthorizationPolicyView* d : deny)
    if (d->matchesAll)
      summary.push_back(fmt::format("DENY policy {} matches every request: all requests are denied", policyName(*d)));
  if (!allow.empty()) {
    bool anyRule = std::any_of(allow.begin(), allow.end(), [](const auto* p) { return p->hasRules; });
    summary.push_back(anyRule ? "Requests that no ALLOW rule matches are denied"
                              : "No ALLOW policy has rules: every request is denied");
  }
  // Istio evaluates CUSTOM, then DENY, then ALLOW: an ALLOW rule whose requests a DENY rule
  // also matches never allows anything.
  for (const AuthorizationPolicyView* a : allow) {
    auto aRules = itemsOf(a->policy->spec()->get("rules"));
    for (const AuthorizationPolicyView* d : deny) {
      auto dRules = itemsOf(d->policy->spec()->get("rules"));
      std::vector<size_t> shadowed;
      for (size_t i = 0; i < aRules.size(); ++i)
        if (std::any_of(dRules.begin(), dRules.end(), [&](const Node* dr) { return emptyRule(dr) || ruleCovers(dr, aRules[i]); }))
          shadowed.push_back(i + 1);
      if (shadowed.empty()) continue;
      if (shadowed.size() == aRules.size())
        warnings.push_back(fmt::format("WARNING: ALLOW policy {} is shadowed by DENY policy {}: every request it allows is "
                                       "denied first",
                                       policyName(*a), policyName(*d)));
      else
        warnings.push_back(fmt::format("WARNING: ALLOW policy {} rule(s) {} shadowed by DENY policy {}: those requests "
                                       "are denied first",
                                       policyName(*a), fmt::join(shadowed, ", "), policyName(*d)));
    }
  }
}

std::vector<std::string> plaintextCallers(const analysis::Snapshot& snapshot, const Workload& server) {
  static const std::set<std::string_view> kSystem = {"kube-system", "kube-public", "kube-node-lease",
                                                     "local-path-storage"};
  auto skip = [&](const core::Resource& r) {
    if (kSystem.contains(r.namespace_()) || r.namespace_() == snapshot.rootNamespace()) return true;
    if (analysis::isIstioControlPlane(r)) return true;
    if (r.kind() == "Pod" && r.name() == server.name && r.namespace_() == server.namespace_) return true;
    // Ambient workloads reach others through ztunnel, with mTLS.
    const core::Resource* ns = snapshot.find(Namespace, "", r.namespace_());
    auto labels = analysis::podLabelsOf(r);
    if (analysis::scalarAt(labels, analysis::kDataplaneModeLabel) == "ambient") return true;
    return ns && ns->label(analysis::kDataplaneModeLabel) == "ambient";
  };
  std::vector<std::string> out;
  std::vector<const core::Resource*> deployments;
  for (const core::Resource* d : snapshot.all(Deployment)) {
    if (skip(*d) || analysis::deploymentInMesh(snapshot, *d)) continue;
    deployments.push_back(d);
    out.push_back(fmt::format("{}.{} (Deployment)", d->name(), d->namespace_()));
  }
  for (const core::Resource* p : snapshot.all(Pod)) {
    if (skip(*p) || analysis::deploymentInMesh(snapshot, *p)) continue;
    // A pod of a Deployment already listed.
    bool owned = std::any_of(deployments.begin(), deployments.end(), [&](const core::Resource* d) {
      const Node* selector = d->spec() ? d->spec()->get("selector") : nullptr;
      return d->namespace_() == p->namespace_() && selector &&
             analysis::LabelSelector::fromLabelSelector(selector).matches(*p);
    });
    if (!owned) out.push_back(fmt::format("{}.{} (Pod)", p->name(), p->namespace_()));
  }
  return out;
}

}  // namespace mesh::cli::describe
