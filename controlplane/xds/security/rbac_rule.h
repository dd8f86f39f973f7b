// One AuthorizationPolicy rule → one Envoy RBAC policy, after Istio's authz model
// (pilot/pkg/security/authz/model): each `from` becomes a principal and each `to` a permission
// (AND of their fields, OR of each field's values, NOT for the not* lists); `when` conditions
// join every principal or permission. Pure; any thread.
#pragma once

#include <optional>
#include <string_view>

#include "core/yaml/node.h"
#include "envoy/config/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {

struct RuleContext {
  std::string_view policyNamespace;  // serviceAccounts without a namespace mean this one
  std::string_view trustDomain;      // "cluster.local" in principals is rewritten to it
  bool forTcp = false;               // a network RBAC filter: HTTP attributes cannot be checked
  envoy::config::rbac::v3::RBAC::Action action = envoy::config::rbac::v3::RBAC::ALLOW;
};

// nullopt when the rule is dropped. A value this filter cannot check (an HTTP-only field on
// TCP, an unparsable IP or port) follows Istio's rule: in an ALLOW policy the whole rule is
// dropped (it allows less); in a DENY or AUDIT policy only that value is left out, which widens
// the rule (it denies more). An unknown condition key drops the rule for every action.
std::optional<envoy::config::rbac::v3::Policy> translateRule(const core::Node* rule, const RuleContext& ctx);

}  // namespace mesh::xds::security
