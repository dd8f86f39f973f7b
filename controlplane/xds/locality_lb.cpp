#include "controlplane/xds/locality_lb.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::endpoint::v3::LocalityLbEndpoints;
using model::Locality;

Locality localityOf(const LocalityLbEndpoints& group) {
  const auto& l = group.locality();
  return Locality{l.region(), l.zone(), l.sub_zone()};
}

// Istio's LocalityMatch: a rule "region/zone/subzone" where "*" or a missing part matches any.
bool localityMatches(const Locality& locality, std::string_view rule) {
  Locality r = Locality::parse(rule);
  return (r.region == "*" || r.region == locality.region) &&
         (r.zone.empty() || r.zone == "*" || r.zone == locality.zone) &&
         (r.subzone.empty() || r.subzone == "*" || r.subzone == locality.subzone);
}

// Istio's LbPriority: how far an endpoint's locality is from the proxy's.
uint32_t lbPriority(const Locality& proxy, const Locality& endpoint) {
  if (proxy.region != endpoint.region) return 3;
  if (proxy.zone != endpoint.zone) return 2;
  return proxy.subzone == endpoint.subzone ? 0 : 1;
}

// Priorities must run 0..N without gaps: map each distinct value to its rank.
void compactPriorities(ClusterLoadAssignment& cla) {
  std::set<uint32_t> used;
  for (const auto& g : cla.endpoints()) used.insert(g.priority());
  std::map<uint32_t, uint32_t> rank;
  for (uint32_t p : used) rank.emplace(p, static_cast<uint32_t>(rank.size()));
  for (auto& g : *cla.mutable_endpoints()) g.set_priority(rank[g.priority()]);
}

// `distribute`: the first rule whose `from` matches the proxy gives each matching locality its
// share of the weight (split between the localities a wildcard matches, by their own weights);
// localities no `to` names get no endpoints.
void applyLocalityWeights(ClusterLoadAssignment& cla, const Locality& proxy, const Node* setting) {
  for (const Node* rule : model::items(setting->get("distribute"))) {
    if (!localityMatches(proxy, model::text(rule, "from"))) continue;
    std::vector<bool> unmatched(static_cast<size_t>(cla.endpoints_size()), true);
    const Node* to = rule->get("to");
    for (const auto& entry : to ? to->entries() : std::span<const core::MapEntry>()) {
      uint32_t weight = static_cast<uint32_t>(entry.value ? entry.value->asInt().value_or(0) : 0);
      std::vector<std::pair<int, uint32_t>> matched;  // index, original weight
      uint64_t total = 0;
      for (int i = 0; i < cla.endpoints_size(); ++i) {
        if (!unmatched[static_cast<size_t>(i)] || !localityMatches(localityOf(cla.endpoints(i)), entry.key->text()))
          continue;
        unmatched[static_cast<size_t>(i)] = false;
        const auto& g = cla.endpoints(i);
        uint32_t original = g.has_load_balancing_weight() ? g.load_balancing_weight().value() : 1;
        matched.emplace_back(i, original);
        total += original;
      }
      for (auto [i, original] : matched) {
        double share = total ? static_cast<double>(original) * weight / static_cast<double>(total) : 0;
        if (share > 0)
          cla.mutable_endpoints(i)->mutable_load_balancing_weight()->set_value(static_cast<uint32_t>(std::ceil(share)));
      }
    }
    for (int i = 0; i < cla.endpoints_size(); ++i)
      if (unmatched[static_cast<size_t>(i)]) cla.mutable_endpoints(i)->clear_lb_endpoints();
    return;
  }
}

// Failover by locality: the priority relative to the proxy's locality (keeping any priority
// failoverPriority gave, in steps of five), and priority 4 for localities outside the region a
// `failover` rule from the proxy's region names.
void applyLocalityFailover(ClusterLoadAssignment& cla, const Locality& proxy, const Node* setting) {
  for (auto& g : *cla.mutable_endpoints()) {
    Locality l = localityOf(g);
    uint32_t priority = lbPriority(proxy, l);
    if (priority == 3) {
      for (const Node* rule : model::items(setting ? setting->get("failover") : nullptr)) {
        if (model::text(rule, "from") != proxy.region) continue;
        if (l.region != model::text(rule, "to")) priority = 4;
        break;
      }
    }
    g.set_priority(g.priority() * 5 + priority);
  }
  compactPriorities(cla);
}

std::string endpointLabel(const model::Endpoint& ep, std::string_view key) {
  Locality locality = Locality::parse(ep.locality);
  if (auto v = model::topologyLabel(key, locality, ep.network)) return std::string(*v);
  auto it = ep.labels.find(key);
  return it == ep.labels.end() ? std::string() : it->second;
}

// A failoverPriority entry: "label" (compare with the proxy's value) or "label=value".
std::pair<std::string_view, std::optional<std::string_view>> splitPriorityLabel(std::string_view entry) {
  auto eq = entry.find('=');
  if (eq == std::string_view::npos) return {entry, std::nullopt};
  return {entry.substr(0, eq), entry.substr(eq + 1)};
}

// failoverPriority: within each locality, endpoints matching the proxy on all the labels get
// priority 0, on all but the last N-1 (and so on), none N; each priority becomes its own
// LocalityLbEndpoints, weighted by its endpoints.
void applyFailoverPriorities(ClusterLoadAssignment& cla, std::span<const std::vector<const model::Endpoint*>> groups,
                             const LocalityLbProxy& proxy, const std::vector<std::string>& priorityLabels) {
  if ((!proxy.labels || proxy.labels->empty()) && proxy.locality.empty()) return;
  const uint32_t lowest = static_cast<uint32_t>(priorityLabels.size());
  google::protobuf::RepeatedPtrField<LocalityLbEndpoints> out;
  for (int i = 0; i < cla.endpoints_size() && static_cast<size_t>(i) < groups.size(); ++i) {
    const LocalityLbEndpoints& group = cla.endpoints(i);
    const auto& eps = groups[static_cast<size_t>(i)];
    std::map<uint32_t, std::vector<int>> byPriority;
    for (int j = 0; j < group.lb_endpoints_size() && static_cast<size_t>(j) < eps.size(); ++j) {
      uint32_t priority = 0;
      for (uint32_t k = 0; k < lowest; ++k) {
        auto [label, fixed] = splitPriorityLabel(priorityLabels[k]);
        std::string_view want = fixed ? *fixed : proxy.label(label);
        if (want != endpointLabel(*eps[static_cast<size_t>(j)], label)) {
          priority = lowest - k;
          break;
        }
      }
      byPriority[priority].push_back(j);
    }
    for (const auto& [priority, members] : byPriority) {
      LocalityLbEndpoints* part = out.Add();
      *part->mutable_locality() = group.locality();
      part->set_priority(priority);
      uint32_t weight = 0;
      for (int j : members) {
        *part->add_lb_endpoints() = group.lb_endpoints(j);
        weight += group.lb_endpoints(j).load_balancing_weight().value();
      }
      part->mutable_load_balancing_weight()->set_value(weight);
    }
  }
  cla.mutable_endpoints()->Swap(&out);
  compactPriorities(cla);
}

}  // namespace

bool LocalityLbPolicy::distribute() const {
  return setting && !model::items(setting->get("distribute")).empty();
}

bool LocalityLbPolicy::failover() const { return active && outlierDetection && !distribute(); }

std::vector<std::string> LocalityLbPolicy::failoverPriority() const {
  if (!failover() || !setting) return {};
  return model::stringList(setting->get("failoverPriority"));
}

LocalityLbPolicy localityLbPolicy(const EffectivePolicy& policy, const core::Node* meshSetting) {
  LocalityLbPolicy out;
  out.outlierDetection = policy.outlierDetection != nullptr;
  const Node* rule = policy.loadBalancer ? policy.loadBalancer->get("localityLbSetting") : nullptr;
  if (rule && !rule->isMapping()) rule = nullptr;
  const Node* chosen = rule ? rule : meshSetting;
  out.active = model::boolAt(chosen, "enabled").value_or(true);
  if (out.active) out.setting = chosen;
  return out;
}

bool wantsLocalityWeightedLbConfig(const LocalityLbPolicy& policy) {
  if (!policy.active) return false;
  if (policy.distribute()) return true;
  if (!policy.outlierDetection || !policy.setting) return false;
  return !model::items(policy.setting->get("failover")).empty() ||
         !model::items(policy.setting->get("failoverPriority")).empty();
}

std::string_view LocalityLbProxy::label(std::string_view key) const {
  if (auto v = model::topologyLabel(key, locality, "")) return *v;
  if (!labels) return {};
  auto it = labels->find(key);
  return it == labels->end() ? std::string_view() : std::string_view(it->second);
}

std::string localityLbKey(const LocalityLbPolicy& policy, const LocalityLbProxy& proxy) {
  std::string key = fmt::format("loc={}/{}/{}", proxy.locality.region, proxy.locality.zone, proxy.locality.subzone);
  for (const std::string& entry : policy.failoverPriority()) {
    auto [label, fixed] = splitPriorityLabel(entry);
    if (!fixed) key += fmt::format("|{}={}", label, proxy.label(label));
  }
  return key;
}

void applyLocalityLoadBalancer(ClusterLoadAssignment& cla, std::span<const std::vector<const model::Endpoint*>> groups,
                               const LocalityLbProxy& proxy, const LocalityLbPolicy& policy) {
  if (!policy.active) return;
  if (policy.distribute()) {
    applyLocalityWeights(cla, proxy.locality, policy.setting);
    return;
  }
  if (!policy.failover()) return;
  std::vector<std::string> priorityLabels = policy.failoverPriority();
  if (priorityLabels.empty()) {
    applyLocalityFailover(cla, proxy.locality, policy.setting);
    return;
  }
  applyFailoverPriorities(cla, groups, proxy, priorityLabels);
  if (policy.setting && !model::items(policy.setting->get("failover")).empty())
    applyLocalityFailover(cla, proxy.locality, policy.setting);
}

}  // namespace mesh::xds
