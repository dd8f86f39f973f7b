#include "controlplane/xds/security/rbac_builder.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/security/policy_selection.h"
#include "controlplane/xds/security/rbac_rule.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {
namespace {

using envoy::config::rbac::v3::Policy;
using model::items;
using model::text;

constexpr std::string_view kDryRunAnnotation = "istio.io/dry-run";

// Istio's rbacPolicyMatchNever: NOT any, for NOT any.
Policy matchNever() {
  Policy p;
  p.add_permissions()->mutable_not_rule()->set_any(true);
  p.add_principals()->mutable_not_id()->set_any(true);
  return p;
}

std::string policyName(const core::Resource& policy, size_t rule, std::string_view prefix) {
  return fmt::format("{}ns[{}]-policy[{}]-rule[{}]", prefix, policy.namespace_(), policy.name(), rule);
}

// Stats of dry-run rules by action, as Istio names them.
std::string_view shadowStatPrefix(const std::optional<RBAC>& shadow) {
  if (!shadow) return {};
  if (shadow->action() == RBAC::ALLOW) return "istio_dry_run_allow_";
  if (shadow->action() == RBAC::DENY) return "istio_dry_run_deny_";
  return {};
}

}  // namespace

AuthorizationPolicies authorizationPolicies(const ProxyView& view) {
  AuthorizationPolicies out;
  for (const core::Resource* p : workloadPolicies(view, "AuthorizationPolicy")) {
    std::string_view action = text(p->spec(), "action");
    if (action.empty() || action == "ALLOW") out.allow.push_back(p);
    else if (action == "DENY") out.deny.push_back(p);
    else if (action == "AUDIT") out.audit.push_back(p);
    else if (action == "CUSTOM") out.custom.push_back(p);
  }
  return out;
}

std::optional<ActionRules> buildActionRules(std::span<const core::Resource* const> policies, RBAC::Action action,
                                            const BuildOptions& options) {
  if (policies.empty()) return std::nullopt;
  ActionRules out;
  for (const core::Resource* policy : policies) {
    bool dryRun = options.honorDryRun && policy->annotation(kDryRunAnnotation) == "true";
    std::optional<RBAC>& target = dryRun ? out.shadowRules : out.rules;
    if (!target) target.emplace().set_action(action);
    auto& map = *target->mutable_policies();
    auto rules = items(policy->spec()->get("rules"));
    if (rules.empty()) {
      map[policyName(*policy, 0, options.namePrefix)] = matchNever();
      continue;
    }
    RuleContext ctx{policy->namespace_(), options.trustDomain, options.forTcp, action};
    for (size_t i = 0; i < rules.size(); ++i)
      if (auto translated = translateRule(rules[i], ctx))
        map[policyName(*policy, i, options.namePrefix)] = std::move(*translated);
  }
  return out;
}

HttpFilter rbacHttpFilter(const ActionRules& rules) {
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  if (rules.rules) *config.mutable_rules() = *rules.rules;
  if (rules.shadowRules) {
    *config.mutable_shadow_rules() = *rules.shadowRules;
    config.set_shadow_rules_stat_prefix(std::string(shadowStatPrefix(rules.shadowRules)));
  }
  HttpFilter f;
  f.set_name(std::string(kHttpRbacFilter));
  *f.mutable_typed_config() = pack(config);
  return f;
}

Filter rbacNetworkFilter(const ActionRules& rules) {
  envoy::extensions::filters::network::rbac::v3::RBAC config;
  config.set_stat_prefix(std::string(kTcpStatPrefix));
  if (rules.rules) *config.mutable_rules() = *rules.rules;
  if (rules.shadowRules) {
    *config.mutable_shadow_rules() = *rules.shadowRules;
    config.set_shadow_rules_stat_prefix(std::string(shadowStatPrefix(rules.shadowRules)));
  }
  Filter f;
  f.set_name(std::string(kNetworkRbacFilter));
  *f.mutable_typed_config() = pack(config);
  return f;
}

namespace {

template <class Out, class Wrap>
std::vector<Out> perAction(const ProxyView& view, const AuthorizationPolicies& policies, bool forTcp, Wrap wrap) {
  BuildOptions options{view.snapshot.options().trustDomain, forTcp, {}, true};
  std::vector<Out> out;
  const std::pair<const std::vector<const core::Resource*>*, RBAC::Action> order[] = {
      {&policies.audit, RBAC::LOG}, {&policies.deny, RBAC::DENY}, {&policies.allow, RBAC::ALLOW}};
  for (const auto& [list, action] : order)
    if (auto rules = buildActionRules(*list, action, options)) out.push_back(wrap(*rules));
  return out;
}

}  // namespace

std::vector<HttpFilter> rbacHttpFilters(const ProxyView& view, const AuthorizationPolicies& policies) {
  return perAction<HttpFilter>(view, policies, false, rbacHttpFilter);
}

std::vector<Filter> rbacNetworkFilters(const ProxyView& view, const AuthorizationPolicies& policies) {
  return perAction<Filter>(view, policies, true, rbacNetworkFilter);
}

}  // namespace mesh::xds::security
