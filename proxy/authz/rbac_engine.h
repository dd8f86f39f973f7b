// Envoy's RBAC (envoy.config.rbac.v3.RBAC) as an evaluator: policies of permissions (what is
// accessed) and principals (who accesses); ALLOW allows when a policy matches, DENY denies
// when one does, LOG always allows. Policies are evaluated in name order and the first match
// is reported. RbacFilter adds the HTTP / network filter's shadow rules. Compiled on the config
// thread; immutable and thread-safe after construction.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "proxy/authz/authz_request.h"

namespace mesh::proxy::authz {

struct RbacDecision {
  bool allowed = true;
  std::string matchedPolicy;  // empty: no policy matched
};

class RbacEngine {
 public:
  enum class Action { Allow, Deny, Log };
  // `where` prefixes error messages ("Listener x.filters[0] (envoy.filters.network.rbac).rules").
  static Result<RbacEngine> compile(const envoy::config::rbac::v3::RBAC& rbac, const std::string& where);
  RbacDecision evaluate(const AuthzRequest& request) const;
  Action action() const { return action_; }

  struct Node;  // a compiled permission or principal (rbac_engine.cpp)
  struct Policy {
    std::string name;
    std::vector<std::shared_ptr<const Node>> permissions;
    std::vector<std::shared_ptr<const Node>> principals;
  };

 private:
  Action action_ = Action::Allow;
  std::vector<Policy> policies_;  // name order
};

// One envoy.filters.http.rbac or envoy.filters.network.rbac filter.
class RbacFilter {
 public:
  static Result<std::shared_ptr<const RbacFilter>> compileHttp(const envoy::extensions::filters::http::rbac::v3::RBAC& c,
                                                               const std::string& where);
  static Result<std::shared_ptr<const RbacFilter>> compileNetwork(
      const envoy::extensions::filters::network::rbac::v3::RBAC& c, const std::string& where);

  // The enforced decision (allowed when the filter has no rules). When shadow rules exist, their
  // result goes to `metadata` under the filter's name ("envoy.filters.http.rbac" or
  // "envoy.filters.network.rbac") as Envoy publishes it:
  // "<shadow prefix>shadow_effective_policy_id" and "<shadow prefix>shadow_engine_result".
  RbacDecision evaluate(const AuthzRequest& request, DynamicMetadata* metadata) const;
  const std::string& statPrefix() const { return statPrefix_; }

 private:
  // Both filter configs share rules / shadow_rules / shadow_rules_stat_prefix.
  template <class Config>
  static Result<std::shared_ptr<const RbacFilter>> compile(const Config& c, const std::string& where,
                                                           std::string statPrefix, const char* metadataName);

  std::optional<RbacEngine> rules_;
  std::optional<RbacEngine> shadow_;
  std::string shadowPrefix_;
  std::string statPrefix_;
  const char* metadataName_ = nullptr;  // the dynamic metadata namespace: the filter's name
};

inline constexpr const char* kRbacFilterName = "envoy.filters.http.rbac";
inline constexpr const char* kNetworkRbacFilterName = "envoy.filters.network.rbac";

}  // namespace mesh::proxy::authz
