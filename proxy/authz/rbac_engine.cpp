#include "proxy/authz/rbac_engine.h"

// Principal.source_ip is deprecated, yet control planes still send it (as direct_remote_ip).
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <algorithm>

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
    auto childMatches = [&](const Node& c) { return c.matches(r); };
    switch (kind) {
      case Kind::Any: return true;
      case Kind::And: return std::ranges::all_of(children, childMatches);
      case Kind::Or: return std::ranges::any_of(children, childMatches);
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
using NodeList = std::vector<std::shared_ptr<const Node>>;

// Permissions and principals share their composition (and / or / not) and several leaves
// (header, url_path, metadata); these helpers serve both.
Result<Node> compileRule(const rv3::Permission& p, const std::string& where);
Result<Node> compileRule(const rv3::Principal& p, const std::string& where);

// A leaf of `kind` holding `matcher` in `field`, or the matcher's compile error.
template <class Matcher>
Result<Node> leaf(Node::Kind kind, Result<Matcher> matcher, std::optional<Matcher> Node::*field) {
  if (!matcher) return Failure(matcher.error());
  Node n;
  n.kind = kind;
  n.*field = std::move(*matcher);
  return n;
}

Result<Node> headerLeaf(const envoy::config::route::v3::HeaderMatcher& m, const std::string& where) {
  return leaf(Node::Kind::Header, compileHeaderMatcher(m, where + ".header"), &Node::header);
}

Result<Node> urlPathLeaf(const envoy::type::matcher::v3::PathMatcher& m, const std::string& where) {
  if (!m.has_path()) return configError(where + ".url_path", "needs path");
  return leaf(Node::Kind::UrlPath, compileStringMatcher(m.path(), where + ".url_path.path"), &Node::string);
}

Result<Node> metadataLeaf(const envoy::type::matcher::v3::MetadataMatcher& m, const std::string& where) {
  return leaf(Node::Kind::Metadata, compileMetadataMatcher(m, where + ".metadata"), &Node::metadata);
}

Result<Node> cidrLeaf(Node::Kind kind, const envoy::config::core::v3::CidrRange& range, const std::string& where) {
  return leaf(kind, compileCidr(range, where), &Node::cidr);
}

// And / Or over a repeated Permission or Principal field; `where` names the field.
template <class Rules>
Result<Node> compileSet(Node::Kind kind, const Rules& rules, const std::string& where) {
  Node n;
  n.kind = kind;
  for (int i = 0; i < rules.size(); ++i) {
    auto c = compileRule(rules[i], where + "[" + std::to_string(i) + "]");
    if (!c) return Failure(c.error());
    n.children.push_back(std::move(*c));
  }
  return n;
}

template <class Rule>
Result<Node> compileNot(const Rule& rule, const std::string& where) {
  auto c = compileRule(rule, where);
  if (!c) return Failure(c.error());
  Node n;
  n.kind = Node::Kind::Not;
  n.children.push_back(std::move(*c));
  return n;
}

Result<Node> compileRule(const rv3::Permission& p, const std::string& where) {
  Node n;
  switch (p.rule_case()) {
    case rv3::Permission::kAny: n.kind = Node::Kind::Any; return n;
    case rv3::Permission::kAndRules: return compileSet(Node::Kind::And, p.and_rules().rules(), where + ".and_rules.rules");
    case rv3::Permission::kOrRules: return compileSet(Node::Kind::Or, p.or_rules().rules(), where + ".or_rules.rules");
    case rv3::Permission::kNotRule: return compileNot(p.not_rule(), where + ".not_rule");
    case rv3::Permission::kHeader: return headerLeaf(p.header(), where);
    case rv3::Permission::kUrlPath: return urlPathLeaf(p.url_path(), where);
    case rv3::Permission::kDestinationIp:
      return cidrLeaf(Node::Kind::DestinationIp, p.destination_ip(), where + ".destination_ip");
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
    case rv3::Permission::kMetadata: return metadataLeaf(p.metadata(), where);
    case rv3::Permission::kRequestedServerName:
      return leaf(Node::Kind::RequestedServerName,
                  compileStringMatcher(p.requested_server_name(), where + ".requested_server_name"), &Node::string);
    case rv3::Permission::kMatcher: return configError(where + ".matcher", "extension permission matchers are not supported");
    case rv3::Permission::kUriTemplate: return configError(where + ".uri_template", "not supported");
    default: return configError(where, "Permission names no rule");
  }
}

Result<Node> compileRule(const rv3::Principal& p, const std::string& where) {
  Node n;
  switch (p.identifier_case()) {
    case rv3::Principal::kAny: n.kind = Node::Kind::Any; return n;
    case rv3::Principal::kAndIds: return compileSet(Node::Kind::And, p.and_ids().ids(), where + ".and_ids.ids");
    case rv3::Principal::kOrIds: return compileSet(Node::Kind::Or, p.or_ids().ids(), where + ".or_ids.ids");
    case rv3::Principal::kNotId: return compileNot(p.not_id(), where + ".not_id");
    case rv3::Principal::kAuthenticated:
      if (!p.authenticated().has_principal_name()) {
        n.kind = Node::Kind::Authenticated;
        return n;
      }
      return leaf(Node::Kind::Authenticated,
                  compileStringMatcher(p.authenticated().principal_name(), where + ".authenticated.principal_name"),
                  &Node::string);
    // source_ip is deprecated in Envoy and means the connection's peer, like direct_remote_ip.
    case rv3::Principal::kSourceIp: return cidrLeaf(Node::Kind::DirectRemoteIp, p.source_ip(), where + ".source_ip");
    case rv3::Principal::kDirectRemoteIp:
      return cidrLeaf(Node::Kind::DirectRemoteIp, p.direct_remote_ip(), where + ".direct_remote_ip");
    case rv3::Principal::kRemoteIp: return cidrLeaf(Node::Kind::RemoteIp, p.remote_ip(), where + ".remote_ip");
    case rv3::Principal::kHeader: return headerLeaf(p.header(), where);
    case rv3::Principal::kUrlPath: return urlPathLeaf(p.url_path(), where);
    case rv3::Principal::kMetadata: return metadataLeaf(p.metadata(), where);
    case rv3::Principal::kFilterState: return configError(where + ".filter_state", "filter state principals are not supported");
    default: return configError(where, "Principal names no identifier");
  }
}

// A policy's permissions or principals; `where` names the field.
template <class Rules>
Result<NodeList> compileList(const Rules& rules, const std::string& where) {
  NodeList out;
  for (int i = 0; i < rules.size(); ++i) {
    auto n = compileRule(rules[i], where + "[" + std::to_string(i) + "]");
    if (!n) return Failure(n.error());
    out.push_back(std::make_shared<const Node>(std::move(*n)));
  }
  return out;
}

bool anyMatches(const NodeList& nodes, const AuthzRequest& request) {
  return std::ranges::any_of(nodes, [&](const auto& n) { return n->matches(request); });
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
    auto permissions = compileList(policy->permissions(), w + ".permissions");
    if (!permissions) return Failure(permissions.error());
    auto principals = compileList(policy->principals(), w + ".principals");
    if (!principals) return Failure(principals.error());
    out.policies_.push_back(Policy{name, std::move(*permissions), std::move(*principals)});
  }
  return out;
}

RbacDecision RbacEngine::evaluate(const AuthzRequest& request) const {
  auto policyMatches = [&](const Policy& p) {
    return anyMatches(p.permissions, request) && anyMatches(p.principals, request);
  };
  auto matched = std::ranges::find_if(policies_, policyMatches);
  RbacDecision d;
  if (matched != policies_.end()) d.matchedPolicy = matched->name;
  switch (action_) {
    case Action::Allow: d.allowed = matched != policies_.end(); break;
    case Action::Deny: d.allowed = matched == policies_.end(); break;
    case Action::Log: d.allowed = true; break;
  }
  return d;
}

// The HTTP and network filters differ only in where their enforced stat prefix lives.
template <class Config>
Result<std::shared_ptr<const RbacFilter>> RbacFilter::compile(const Config& c, const std::string& where,
                                                              std::string statPrefix, const char* metadataName) {
  if (c.has_matcher()) return configError(where + ".matcher", "the matcher API is not supported; use rules");
  if (c.has_shadow_matcher()) return configError(where + ".shadow_matcher", "the matcher API is not supported");
  auto out = std::make_shared<RbacFilter>();
  if (c.has_rules()) {
    auto r = RbacEngine::compile(c.rules(), where + ".rules");
    if (!r) return Failure(r.error());
    out->rules_ = std::move(*r);
  }
  if (c.has_shadow_rules()) {
    auto r = RbacEngine::compile(c.shadow_rules(), where + ".shadow_rules");
    if (!r) return Failure(r.error());
    out->shadow_ = std::move(*r);
  }
  out->shadowPrefix_ = c.shadow_rules_stat_prefix();
  out->statPrefix_ = std::move(statPrefix);
  out->metadataName_ = metadataName;
  return std::shared_ptr<const RbacFilter>(std::move(out));
}

Result<std::shared_ptr<const RbacFilter>> RbacFilter::compileHttp(const envoy::extensions::filters::http::rbac::v3::RBAC& c,
                                                                  const std::string& where) {
  return compile(c, where, c.rules_stat_prefix(), kRbacFilterName);
}

Result<std::shared_ptr<const RbacFilter>> RbacFilter::compileNetwork(
    const envoy::extensions::filters::network::rbac::v3::RBAC& c, const std::string& where) {
  return compile(c, where, c.stat_prefix(), kNetworkRbacFilterName);
}

RbacDecision RbacFilter::evaluate(const AuthzRequest& request, DynamicMetadata* metadata) const {
  if (shadow_ && metadata != nullptr) {
    RbacDecision s = shadow_->evaluate(request);
    auto& rbac = (*metadata)[metadataName_];
    if (!s.matchedPolicy.empty()) rbac[shadowPrefix_ + "shadow_effective_policy_id"] = s.matchedPolicy;
    rbac[shadowPrefix_ + "shadow_engine_result"] = s.allowed ? "allowed" : "denied";
  }
  if (!rules_) return RbacDecision{};
  return rules_->evaluate(request);
}

}  // namespace mesh::proxy::authz
