#include "proxy/authz/rbac_engine.h"

// Principal.source_ip is deprecated, yet control planes still send it (as direct_remote_ip).
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "proxy/authz/matchers.h"

namespace mesh::proxy::authz {

namespace rv3 = envoy::config::rbac::v3;

// One compiled Permission or Principal; `kind` says which fields count.
struct RbacEngine::Node {
  enum class Kind {
    Any, And, Or, Not,
    Header, UrlPath, DestinationIp, DestinationPort, DestinationPortRange, Metadata, RequestedServerName,
    Authenticated, DirectRemoteIp, RemoteIp,
  };
  Kind kind = Kind::Any;
  std::vector<Node> children;  // And, Or: all; Not: one
  std::optional<HeaderMatcher> header;
  std::optional<StringMatcher> string;  // UrlPath, RequestedServerName, Authenticated (unset: any peer)
  std::optional<CidrMatcher> cidr;
  std::optional<MetadataMatcher> metadata;
  uint32_t portStart = 0, portEnd = 0;  // DestinationPort: start only; range: [start, end)

  bool matches(const AuthzRequest& r) const {
    switch (kind) {
      case Kind::Any: return true;
      case Kind::And:
        for (const Node& c : children) {
          if (!c.matches(r)) return false;
        }
        return true;
      case Kind::Or:
        for (const Node& c : children) {
          if (c.matches(r)) return true;
        }
        return false;
      case Kind::Not: return !children.front().matches(r);
      // Request attributes never match a network (L4) check, as in Envoy's network RBAC.
      case Kind::Header: return r.headers != nullptr && header->matches(*r.headers);
      case Kind::UrlPath: {
        if (r.headers == nullptr) return false;
        auto path = r.headers->get(":path");
        return path && string->matches(pathWithoutQuery(*path));
      }
      case Kind::DestinationIp: return cidr->matches(r.destinationAddress);
      case Kind::DestinationPort: return r.destinationPort == portStart;
      case Kind::DestinationPortRange: return r.destinationPort >= portStart && r.destinationPort < portEnd;
      case Kind::Metadata: return metadata->matches(r.metadata);
      case Kind::RequestedServerName: return string->matches(r.serverName);
      // Envoy: an authenticated (mTLS) peer; its URI SAN against principal_name when set.
      case Kind::Authenticated: return !r.peerPrincipal.empty() && (!string || string->matches(r.peerPrincipal));
      case Kind::DirectRemoteIp: return cidr->matches(r.directRemoteAddress);
      case Kind::RemoteIp: return cidr->matches(r.remoteAddress);
    }
    return false;
  }
};

namespace {

using Node = RbacEngine::Node;

template <class Fn>
Result<Node> compileSet(Node::Kind kind, int size, Fn child) {
  Node n;
  n.kind = kind;
  for (int i = 0; i < size; ++i) {
    auto c = child(i);
    if (!c) return Failure(c.error());
    n.children.push_back(std::move(*c));
  }
  return n;
}

Result<Node> compilePermission(const rv3::Permission& p, const std::string& where);

Result<Node> compilePermission(const rv3::Permission& p, const std::string& where) {
  Node n;
  switch (p.rule_case()) {
    case rv3::Permission::kAny: n.kind = Node::Kind::Any; return n;
    case rv3::Permission::kAndRules:
      return compileSet(Node::Kind::And, p.and_rules().rules_size(), [&](int i) {
        return compilePermission(p.and_rules().rules(i), where + ".and_rules.rules[" + std::to_string(i) + "]");
      });
    case rv3::Permission::kOrRules:
      return compileSet(Node::Kind::Or, p.or_rules().rules_size(), [&](int i) {
        return compilePermission(p.or_rules().rules(i), where + ".or_rules.rules[" + std::to_string(i) + "]");
      });
    case rv3::Permission::kNotRule: {
      auto c = compilePermission(p.not_rule(), where + ".not_rule");
      if (!c) return Failure(c.error());
      n.kind = Node::Kind::Not;
      n.children.push_back(std::move(*c));
      return n;
    }
    case rv3::Permission::kHeader: {
      auto h = compileHeaderMatcher(p.header(), where + ".header");
      if (!h) return Failure(h.error());
      n.kind = Node::Kind::Header;
      n.header = std::move(*h);
      return n;
    }
    case rv3::Permission::kUrlPath: {
      if (!p.url_path().has_path()) return configError(where + ".url_path", "needs path");
      auto s = compileStringMatcher(p.url_path().path(), where + ".url_path.path");
      if (!s) return Failure(s.error());
      n.kind = Node::Kind::UrlPath;
      n.string = std::move(*s);
      return n;
    }
    case rv3::Permission::kDestinationIp: {
      auto c = compileCidr(p.destination_ip(), where + ".destination_ip");
      if (!c) return Failure(c.error());
      n.kind = Node::Kind::DestinationIp;
      n.cidr = *c;
      return n;
    }
    case rv3::Permission::kDestinationPort:
      if (p.destination_port() > 65535) return configError(where + ".destination_port", "above 65535");
      n.kind = Node::Kind::DestinationPort;
      n.portStart = p.destination_port();
      return n;
    case rv3::Permission::kDestinationPortRange:
      n.kind = Node::Kind::DestinationPortRange;
      if (p.destination_port_range().start() < 0 || p.destination_port_range().end() > 65536 ||
          p.destination_port_range().start() > p.destination_port_range().end()) {
        return configError(where + ".destination_port_range", "not a port range");
      }
      n.portStart = static_cast<uint32_t>(p.destination_port_range().start());
      n.portEnd = static_cast<uint32_t>(p.destination_port_range().end());
      return n;
    case rv3::Permission::kMetadata: {
      auto m = compileMetadataMatcher(p.metadata(), where + ".metadata");
      if (!m) return Failure(m.error());
      n.kind = Node::Kind::Metadata;
      n.metadata = std::move(*m);
      return n;
    }
    case rv3::Permission::kRequestedServerName: {
      auto s = compileStringMatcher(p.requested_server_name(), where + ".requested_server_name");
      if (!s) return Failure(s.error());
      n.kind = Node::Kind::RequestedServerName;
      n.string = std::move(*s);
      return n;
    }
    case rv3::Permission::kMatcher: return configError(where + ".matcher", "extension permission matchers are not supported");
    case rv3::Permission::kUriTemplate: return configError(where + ".uri_template", "not supported");
    default: return configError(where, "Permission names no rule");
  }
}

Result<Node> compilePrincipal(const rv3::Principal& p, const std::string& where);

Result<Node> compilePrincipal(const rv3::Principal& p, const std::string& where) {
  Node n;
  auto cidr = [&](const envoy::config::core::v3::CidrRange& range, Node::Kind kind, const std::string& field) -> Result<Node> {
    auto c = compileCidr(range, where + "." + field);
    if (!c) return Failure(c.error());
    n.kind = kind;
    n.cidr = *c;
    return n;
  };
  switch (p.identifier_case()) {
    case rv3::Principal::kAny: n.kind = Node::Kind::Any; return n;
    case rv3::Principal::kAndIds:
      return compileSet(Node::Kind::And, p.and_ids().ids_size(), [&](int i) {
        return compilePrincipal(p.and_ids().ids(i), where + ".and_ids.ids[" + std::to_string(i) + "]");
      });
    case rv3::Principal::kOrIds:
      return compileSet(Node::Kind::Or, p.or_ids().ids_size(), [&](int i) {
        return compilePrincipal(p.or_ids().ids(i), where + ".or_ids.ids[" + std::to_string(i) + "]");
      });
    case rv3::Principal::kNotId: {
      auto c = compilePrincipal(p.not_id(), where + ".not_id");
      if (!c) return Failure(c.error());
      n.kind = Node::Kind::Not;
      n.children.push_back(std::move(*c));
      return n;
    }
    case rv3::Principal::kAuthenticated:
      n.kind = Node::Kind::Authenticated;
      if (p.authenticated().has_principal_name()) {
        auto s = compileStringMatcher(p.authenticated().principal_name(), where + ".authenticated.principal_name");
        if (!s) return Failure(s.error());
        n.string = std::move(*s);
      }
      return n;
    // source_ip is deprecated in Envoy and means the connection's peer, like direct_remote_ip.
    case rv3::Principal::kSourceIp: return cidr(p.source_ip(), Node::Kind::DirectRemoteIp, "source_ip");
    case rv3::Principal::kDirectRemoteIp: return cidr(p.direct_remote_ip(), Node::Kind::DirectRemoteIp, "direct_remote_ip");
    case rv3::Principal::kRemoteIp: return cidr(p.remote_ip(), Node::Kind::RemoteIp, "remote_ip");
    case rv3::Principal::kHeader: {
      auto h = compileHeaderMatcher(p.header(), where + ".header");
      if (!h) return Failure(h.error());
      n.kind = Node::Kind::Header;
      n.header = std::move(*h);
      return n;
    }
    case rv3::Principal::kUrlPath: {
      if (!p.url_path().has_path()) return configError(where + ".url_path", "needs path");
      auto s = compileStringMatcher(p.url_path().path(), where + ".url_path.path");
      if (!s) return Failure(s.error());
      n.kind = Node::Kind::UrlPath;
      n.string = std::move(*s);
      return n;
    }
    case rv3::Principal::kMetadata: {
      auto m = compileMetadataMatcher(p.metadata(), where + ".metadata");
      if (!m) return Failure(m.error());
      n.kind = Node::Kind::Metadata;
      n.metadata = std::move(*m);
      return n;
    }
    case rv3::Principal::kFilterState: return configError(where + ".filter_state", "filter state principals are not supported");
    default: return configError(where, "Principal names no identifier");
  }
}

}  // namespace

Result<RbacEngine> RbacEngine::compile(const rv3::RBAC& rbac, const std::string& where) {
  RbacEngine out;
  switch (rbac.action()) {
    case rv3::RBAC::ALLOW: out.action_ = Action::Allow; break;
    case rv3::RBAC::DENY: out.action_ = Action::Deny; break;
    case rv3::RBAC::LOG: out.action_ = Action::Log; break;
    default: return configError(where + ".action", "unknown action");
  }
  if (rbac.has_audit_logging_options()) {
    return configError(where + ".audit_logging_options", "RBAC audit loggers are not supported");
  }
  // Protobuf maps have no order: Envoy evaluates policies in name order.
  std::map<std::string, const rv3::Policy*> byName;
  for (const auto& [name, policy] : rbac.policies()) byName.emplace(name, &policy);
  for (const auto& [name, policy] : byName) {
    std::string w = where + ".policies[" + name + "]";
    if (policy->has_condition() || policy->has_checked_condition()) {
      return configError(w + ".condition", "CEL conditions are not supported");
    }
    Policy compiled;
    compiled.name = name;
    for (int i = 0; i < policy->permissions_size(); ++i) {
      auto p = compilePermission(policy->permissions(i), w + ".permissions[" + std::to_string(i) + "]");
      if (!p) return Failure(p.error());
      compiled.permissions.push_back(std::make_shared<const Node>(std::move(*p)));
    }
    for (int i = 0; i < policy->principals_size(); ++i) {
      auto p = compilePrincipal(policy->principals(i), w + ".principals[" + std::to_string(i) + "]");
      if (!p) return Failure(p.error());
      compiled.principals.push_back(std::make_shared<const Node>(std::move(*p)));
    }
    out.policies_.push_back(std::move(compiled));
  }
  return out;
}

RbacDecision RbacEngine::evaluate(const AuthzRequest& request) const {
  const Policy* matched = nullptr;
  for (const Policy& p : policies_) {
    bool permission = false, principal = false;
    for (const auto& n : p.permissions) {
      if (n->matches(request)) {
        permission = true;
        break;
      }
    }
    if (!permission) continue;
    for (const auto& n : p.principals) {
      if (n->matches(request)) {
        principal = true;
        break;
      }
    }
    if (principal) {
      matched = &p;
      break;
    }
  }
  RbacDecision d;
  if (matched != nullptr) d.matchedPolicy = matched->name;
  switch (action_) {
    case Action::Allow: d.allowed = matched != nullptr; break;
    case Action::Deny: d.allowed = matched == nullptr; break;
    case Action::Log: d.allowed = true; break;
  }
  return d;
}

namespace {

template <class Config>
Result<void> compileFilter(const Config& c, const std::string& where,
                                                        std::optional<RbacEngine>& rules, std::optional<RbacEngine>& shadow) {
  if (c.has_matcher()) return configError(where + ".matcher", "the matcher API is not supported; use rules");
  if (c.has_shadow_matcher()) return configError(where + ".shadow_matcher", "the matcher API is not supported");
  if (c.has_rules()) {
    auto r = RbacEngine::compile(c.rules(), where + ".rules");
    if (!r) return Failure(r.error());
    rules = std::move(*r);
  }
  if (c.has_shadow_rules()) {
    auto r = RbacEngine::compile(c.shadow_rules(), where + ".shadow_rules");
    if (!r) return Failure(r.error());
    shadow = std::move(*r);
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const RbacFilter>> RbacFilter::compileHttp(const envoy::extensions::filters::http::rbac::v3::RBAC& c,
                                                                  const std::string& where) {
  auto out = std::make_shared<RbacFilter>();
  auto ok = compileFilter(c, where, out->rules_, out->shadow_);
  if (!ok) return Failure(ok.error());
  out->shadowPrefix_ = c.shadow_rules_stat_prefix();
  out->statPrefix_ = c.rules_stat_prefix();
  return std::shared_ptr<const RbacFilter>(std::move(out));
}

Result<std::shared_ptr<const RbacFilter>> RbacFilter::compileNetwork(
    const envoy::extensions::filters::network::rbac::v3::RBAC& c, const std::string& where) {
  auto out = std::make_shared<RbacFilter>();
  auto ok = compileFilter(c, where, out->rules_, out->shadow_);
  if (!ok) return Failure(ok.error());
  out->shadowPrefix_ = c.shadow_rules_stat_prefix();
  out->statPrefix_ = c.stat_prefix();
  return std::shared_ptr<const RbacFilter>(std::move(out));
}

RbacDecision RbacFilter::evaluate(const AuthzRequest& request, DynamicMetadata* metadata) const {
  if (shadow_ && metadata != nullptr) {
    RbacDecision s = shadow_->evaluate(request);
    auto& rbac = (*metadata)[kRbacFilterName];
    if (!s.matchedPolicy.empty()) rbac[shadowPrefix_ + "shadow_effective_policy_id"] = s.matchedPolicy;
    rbac[shadowPrefix_ + "shadow_engine_result"] = s.allowed ? "allowed" : "denied";
  }
  if (!rules_) return RbacDecision{};
  return rules_->evaluate(request);
}

}  // namespace mesh::proxy::authz
