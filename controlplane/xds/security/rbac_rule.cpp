#include "controlplane/xds/security/rbac_rule.h"

#include <charconv>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/security/rbac_matchers.h"

namespace mesh::xds::security {
namespace {

using core::Node;
using envoy::config::rbac::v3::Permission;
using envoy::config::rbac::v3::Policy;
using envoy::config::rbac::v3::Principal;
using envoy::config::rbac::v3::RBAC;
using model::items;
using model::stringList;
using model::text;

// The attributes a rule can name; each maps to one kind of Envoy permission or principal.
enum class Attr {
  // Permissions (what is accessed).
  Host, Method, Path, DestPort, DestIp, ConnSni, EnvoyFilter,
  // Principals (who accesses).
  SrcPrincipal, RequestPrincipal, SrcServiceAccount, SrcNamespace, RemoteIp, SrcIp,
  RequestAudiences, RequestPresenter, RequestHeader, RequestClaims,
};

bool isPermission(Attr a) { return a <= Attr::EnvoyFilter; }

// Attributes that only exist on an HTTP request.
bool httpOnly(Attr a) {
  switch (a) {
    case Attr::Host: case Attr::Method: case Attr::Path: case Attr::RequestPrincipal:
    case Attr::RequestAudiences: case Attr::RequestPresenter: case Attr::RequestHeader: case Attr::RequestClaims:
      return true;
    default:
      return false;
  }
}

// Attributes whose values become one matcher together rather than an OR of one per value.
bool groupsValues(Attr a) {
  return a == Attr::RequestPrincipal || a == Attr::RequestAudiences || a == Attr::RequestPresenter ||
         a == Attr::RequestClaims || a == Attr::EnvoyFilter;
}

struct Condition {
  Attr attr;
  std::string key;
  std::vector<std::string> values;
  std::vector<std::string> notValues;
};

// The `when` keys Istio knows.
std::optional<Attr> conditionAttr(std::string_view key) {
  if (key == "destination.ip") return Attr::DestIp;
  if (key == "destination.port") return Attr::DestPort;
  if (key == "connection.sni") return Attr::ConnSni;
  if (key.starts_with("experimental.envoy.filters.")) return Attr::EnvoyFilter;
  if (key == "source.ip") return Attr::SrcIp;
  if (key == "remote.ip") return Attr::RemoteIp;
  if (key == "source.namespace") return Attr::SrcNamespace;
  if (key == "source.serviceAccount") return Attr::SrcServiceAccount;
  if (key == "source.principal") return Attr::SrcPrincipal;
  if (key == "request.auth.principal") return Attr::RequestPrincipal;
  if (key == "request.auth.audiences") return Attr::RequestAudiences;
  if (key == "request.auth.presenter") return Attr::RequestPresenter;
  if (key.starts_with("request.headers")) return Attr::RequestHeader;
  if (key.starts_with("request.auth.claims")) return Attr::RequestClaims;
  return std::nullopt;
}

// "[name]" → "name".
std::optional<std::string> nameInBrackets(std::string_view s) {
  if (s.size() < 2 || !s.starts_with('[') || !s.ends_with(']')) return std::nullopt;
  return std::string(s.substr(1, s.size() - 2));
}

// "[a][b]" → {a, b}; anything else is read as one name in brackets ("[a.b]" → {a.b}).
std::optional<std::vector<std::string>> namesInNestedBrackets(std::string_view s) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s[pos] == '[' ? s.find_first_of("[]", pos + 1) : std::string_view::npos;
    if (end == std::string_view::npos || s[end] != ']') {
      auto one = nameInBrackets(s);
      if (!one) return std::nullopt;
      return std::vector<std::string>{*one};
    }
    names.emplace_back(s.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  if (names.empty()) return std::nullopt;
  return names;
}

std::optional<uint32_t> portNumber(std::string_view v) {
  uint32_t p = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
  if (ec != std::errc() || ptr != v.data() + v.size() || p > 65535) return std::nullopt;
  return p;
}

// "cluster.local" in a principal means the local trust domain: Istio rewrites it to the mesh's
// configured one (trust domain aliases are not modelled). Other trust domains stay as written.
std::string migrateTrustDomain(std::string_view principal, std::string_view trustDomain) {
  size_t slash = principal.find('/');
  if (slash == std::string_view::npos) return std::string(principal);
  std::string_view td = principal.substr(0, slash);
  if (td == "cluster.local" && !trustDomain.empty()) return fmt::format("{}{}", trustDomain, principal.substr(slash));
  return std::string(principal);
}

Principal authenticated(StringMatcher name) {
  Principal p;
  *p.mutable_authenticated()->mutable_principal_name() = std::move(name);
  return p;
}

// --- one value → one permission or principal (nullopt: cannot be checked here) ---

std::optional<Permission> permission(const Condition& c, std::string_view v, const RuleContext& ctx) {
  if (ctx.forTcp && httpOnly(c.attr)) return std::nullopt;
  Permission p;
  switch (c.attr) {
    case Attr::Host: *p.mutable_header() = hostMatcher(":authority", v); break;
    case Attr::Method: *p.mutable_header() = headerMatcher(":method", v); break;
    case Attr::Path: *p.mutable_url_path() = pathMatcher(v); break;
    case Attr::DestPort: {
      auto port = portNumber(v);
      if (!port) return std::nullopt;
      p.set_destination_port(*port);
      break;
    }
    case Attr::DestIp: {
      auto cidr = cidrRange(v);
      if (!cidr) return std::nullopt;
      *p.mutable_destination_ip() = *cidr;
      break;
    }
    case Attr::ConnSni: *p.mutable_requested_server_name() = stringMatcher(v); break;
    default: return std::nullopt;
  }
  return p;
}

std::optional<Principal> principal(const Condition& c, std::string_view v, const RuleContext& ctx) {
  if (ctx.forTcp && httpOnly(c.attr)) return std::nullopt;
  Principal p;
  switch (c.attr) {
    case Attr::SrcPrincipal:
      // Peer identities are SPIFFE URIs: "cluster.local/ns/a/sa/b" is spiffe://cluster.local/ns/a/sa/b.
      return authenticated(stringMatcher(migrateTrustDomain(v, ctx.trustDomain), kSpiffePrefix));
    case Attr::SrcNamespace: {
      std::string ns(v);
      for (size_t at = ns.find('*'); at != std::string::npos; at = ns.find('*', at + 2)) ns.replace(at, 1, ".*");
      return authenticated(regexMatcher(fmt::format(".*/ns/{}/.*", ns)));
    }
    case Attr::SrcServiceAccount: {
      // "sa" (the policy's namespace) or "ns/sa"; SPIFFE IDs may carry extra /k/v segments.
      size_t slash = v.find('/');
      std::string_view ns = slash == std::string_view::npos ? ctx.policyNamespace : v.substr(0, slash);
      std::string_view sa = slash == std::string_view::npos ? v : v.substr(slash + 1);
      return authenticated(regexMatcher(fmt::format("spiffe://.+/ns/{}/(.+/|)sa/{}(/.+)?", ns, sa)));
    }
    case Attr::SrcIp:
    case Attr::RemoteIp: {
      auto cidr = cidrRange(v);
      if (!cidr) return std::nullopt;
      // source.ip / ipBlocks: the peer of the connection; remote.ip / remoteIpBlocks: the
      // original client as X-Forwarded-For or PROXY protocol report it.
      *(c.attr == Attr::SrcIp ? p.mutable_direct_remote_ip() : p.mutable_remote_ip()) = *cidr;
      return p;
    }
    case Attr::RequestHeader: {
      auto name = nameInBrackets(std::string_view(c.key).substr(std::string_view("request.headers").size()));
      if (!name) return std::nullopt;
      *p.mutable_header() = headerMatcher(*name, v);
      return p;
    }
    default:
      return std::nullopt;
  }
}

// --- all values of a grouped attribute → one permission or principal ---

Principal jwtClaims(std::span<const std::string> path, std::span<const std::string> values) {
  Principal p;
  *p.mutable_metadata() = jwtClaimMatcher(path, values);
  return p;
}

// A request principal is "<iss>/<sub>" of the verified JWT (split at the last '/': issuers are
// often URLs), matched on jwt_authn's payload metadata as current Istio does, so it works on
// any Envoy (istio_authn, which Istio's older configs read, exists only in Istio's proxy).
Principal requestPrincipal(std::string_view value) {
  size_t slash = value.rfind('/');
  bool found = slash != std::string_view::npos;
  std::string_view iss = found ? value.substr(0, slash) : value;
  std::string_view sub = found ? value.substr(slash + 1) : std::string_view();
  StringMatcher any = regexMatcher(".+");
  StringMatcher matchIss, matchSub;
  if (value == "*") {
    matchIss = any;
    matchSub = any;
  } else if (value.starts_with('*')) {
    // "*<sub>" or "*<iss suffix>/<sub>".
    matchIss = !found ? any : iss == "*" ? any : suffixMatch(iss.substr(1));
    matchSub = found ? exactMatch(sub) : suffixMatch(value.substr(1));
  } else if (value.ends_with('*')) {
    // "<iss prefix>*" or "<iss>/<sub prefix>*".
    matchIss = found ? exactMatch(iss) : prefixMatch(value.substr(0, value.size() - 1));
    matchSub = !found ? any : sub == "*" ? any : prefixMatch(sub.substr(0, sub.size() - 1));
  } else {
    matchIss = exactMatch(iss);
    matchSub = exactMatch(sub);
  }
  Principal both;
  auto* ids = both.mutable_and_ids();
  *ids->add_ids()->mutable_metadata() = jwtStringClaimMatcher("iss", std::move(matchIss));
  *ids->add_ids()->mutable_metadata() = jwtStringClaimMatcher("sub", std::move(matchSub));
  return both;
}

std::optional<Principal> groupedPrincipal(const Condition& c, std::span<const std::string> values, const RuleContext& ctx) {
  if (ctx.forTcp && httpOnly(c.attr)) return std::nullopt;
  switch (c.attr) {
    case Attr::RequestPrincipal: {
      if (values.size() == 1) return requestPrincipal(values[0]);
      Principal any;
      for (const std::string& v : values) *any.mutable_or_ids()->add_ids() = requestPrincipal(v);
      return any;
    }
    case Attr::RequestAudiences: {
      const std::string path[] = {"aud"};
      return jwtClaims(path, values);
    }
    case Attr::RequestPresenter: {
      const std::string path[] = {"azp"};
      return jwtClaims(path, values);
    }
    case Attr::RequestClaims: {
      auto path = namesInNestedBrackets(std::string_view(c.key).substr(std::string_view("request.auth.claims").size()));
      if (!path) return std::nullopt;
      return jwtClaims(*path, values);
    }
    default:
      return std::nullopt;
  }
}

// experimental.envoy.filters.<filter>[<key>]: a value "v" matches a string, "[v]" a list
// containing v, in that filter's dynamic metadata.
std::optional<Permission> groupedPermission(const Condition& c, std::span<const std::string> values, const RuleContext&) {
  std::string_view key = std::string_view(c.key).substr(std::string_view("experimental.").size());
  if (!key.ends_with(']')) return std::nullopt;
  key.remove_suffix(1);
  size_t open = key.find('[');
  if (open == std::string_view::npos) return std::nullopt;
  ValueMatcher anyOf;
  for (const std::string& v : values) {
    std::string_view s = v;
    if (s.size() >= 2 && s.starts_with('[') && s.ends_with(']'))
      *anyOf.mutable_or_match()->add_value_matchers()->mutable_list_match()->mutable_one_of() =
          stringValue(stringMatcher(s.substr(1, s.size() - 2)));
    else
      *anyOf.mutable_or_match()->add_value_matchers() = stringValue(stringMatcher(s));
  }
  const std::string path[] = {std::string(key.substr(open + 1))};
  Permission p;
  *p.mutable_metadata() = metadataMatcher(key.substr(0, open), path, std::move(anyOf));
  return p;
}

// --- conditions → the AND list of one permission or principal ---

// Istio's checkError: in an ALLOW policy a value that cannot be checked drops the rule; in DENY
// and AUDIT it is skipped.
bool dropsRule(const RuleContext& ctx) { return ctx.action == RBAC::ALLOW; }

Permission orOf(std::vector<Permission> items) {
  Permission p;
  for (Permission& i : items) *p.mutable_or_rules()->add_rules() = std::move(i);
  return p;
}
Principal orOf(std::vector<Principal> items) {
  Principal p;
  for (Principal& i : items) *p.mutable_or_ids()->add_ids() = std::move(i);
  return p;
}

Permission notOf(Permission p) {
  Permission out;
  *out.mutable_not_rule() = std::move(p);
  return out;
}
Principal notOf(Principal p) {
  Principal out;
  *out.mutable_not_id() = std::move(p);
  return out;
}

// Appends the matchers of one condition (values, then notValues) to `andList`; false when the
// rule must be dropped.
template <class Message, class One, class Grouped>
bool appendCondition(const Condition& c, const RuleContext& ctx, std::vector<Message>& andList, One one, Grouped grouped) {
  for (bool negate : {false, true}) {
    const std::vector<std::string>& values = negate ? c.notValues : c.values;
    if (values.empty()) continue;
    std::optional<Message> m;
    if (groupsValues(c.attr)) {
      m = grouped(c, values, ctx);
      if (!m && dropsRule(ctx)) return false;
    } else {
      std::vector<Message> any;
      for (const std::string& v : values) {
        if (auto x = one(c, v, ctx)) any.push_back(std::move(*x));
        else if (dropsRule(ctx)) return false;
      }
      if (!any.empty()) m = orOf(std::move(any));
    }
    if (m) andList.push_back(negate ? notOf(std::move(*m)) : std::move(*m));
  }
  return true;
}

std::optional<Permission> permissionOf(const std::vector<Condition>& conditions, const RuleContext& ctx) {
  std::vector<Permission> all;
  for (const Condition& c : conditions)
    if (!appendCondition(c, ctx, all, permission, groupedPermission)) return std::nullopt;
  Permission out;
  auto* rules = out.mutable_and_rules();
  if (all.empty()) rules->add_rules()->set_any(true);
  for (Permission& p : all) *rules->add_rules() = std::move(p);
  return out;
}

std::optional<Principal> principalOf(const std::vector<Condition>& conditions, const RuleContext& ctx) {
  std::vector<Principal> all;
  for (const Condition& c : conditions)
    if (!appendCondition(c, ctx, all, principal, groupedPrincipal)) return std::nullopt;
  Principal out;
  auto* ids = out.mutable_and_ids();
  if (all.empty()) ids->add_ids()->set_any(true);
  for (Principal& p : all) *ids->add_ids() = std::move(p);
  return out;
}

void add(std::vector<Condition>& list, Attr attr, std::string key, const Node* values, const Node* notValues) {
  Condition c{attr, std::move(key), stringList(values), stringList(notValues)};
  if (!c.values.empty() || !c.notValues.empty()) list.push_back(std::move(c));
}

// A `source` or `operation` field pair and the attribute it sets, in Istio's order within a
// principal (principals, requestPrincipals, serviceAccounts, namespaces, remoteIpBlocks,
// ipBlocks) or a permission (hosts, methods, paths, ports); `when` conditions follow.
struct Field {
  Attr attr;
  std::string_view key;
  std::string_view values;
  std::string_view notValues;
};

constexpr Field kSourceFields[] = {
    {Attr::SrcPrincipal, "source.principal", "principals", "notPrincipals"},
    {Attr::RequestPrincipal, "request.auth.principal", "requestPrincipals", "notRequestPrincipals"},
    {Attr::SrcServiceAccount, "source.serviceAccount", "serviceAccounts", "notServiceAccounts"},
    {Attr::SrcNamespace, "source.namespace", "namespaces", "notNamespaces"},
    {Attr::RemoteIp, "remote.ip", "remoteIpBlocks", "notRemoteIpBlocks"},
    {Attr::SrcIp, "source.ip", "ipBlocks", "notIpBlocks"},
};

constexpr Field kOperationFields[] = {
    {Attr::Host, ":authority", "hosts", "notHosts"},
    {Attr::Method, ":method", "methods", "notMethods"},
    {Attr::Path, "path", "paths", "notPaths"},
    {Attr::DestPort, "destination.port", "ports", "notPorts"},
};

std::vector<Condition> conditionsOf(const Node* owner, std::span<const Field> fields, const std::vector<Condition>& when) {
  std::vector<Condition> out;
  if (owner)
    for (const Field& f : fields) add(out, f.attr, std::string(f.key), owner->get(f.values), owner->get(f.notValues));
  out.insert(out.end(), when.begin(), when.end());
  return out;
}

}  // namespace

std::optional<Policy> translateRule(const Node* rule, const RuleContext& ctx) {
  if (!rule || !rule->isMapping()) return std::nullopt;
  // `when` conditions end every principal or permission, in their written order.
  std::vector<Condition> basePermission, basePrincipal;
  for (const Node* when : items(rule->get("when"))) {
    std::string key(text(when, "key"));
    auto attr = conditionAttr(key);
    if (!attr) return std::nullopt;
    auto& list = isPermission(*attr) ? basePermission : basePrincipal;
    add(list, *attr, key, when->get("values"), when->get("notValues"));
  }

  Policy policy;
  auto froms = items(rule->get("from"));
  for (const Node* from : froms) {
    auto p = principalOf(conditionsOf(from->get("source"), kSourceFields, basePrincipal), ctx);
    if (!p) return std::nullopt;
    *policy.add_principals() = std::move(*p);
  }
  if (froms.empty()) {
    auto p = principalOf(basePrincipal, ctx);
    if (!p) return std::nullopt;
    *policy.add_principals() = std::move(*p);
  }

  auto tos = items(rule->get("to"));
  for (const Node* to : tos) {
    auto p = permissionOf(conditionsOf(to->get("operation"), kOperationFields, basePermission), ctx);
    if (!p) return std::nullopt;
    *policy.add_permissions() = std::move(*p);
  }
  if (tos.empty()) {
    auto p = permissionOf(basePermission, ctx);
    if (!p) return std::nullopt;
    *policy.add_permissions() = std::move(*p);
  }
  return policy;
}

}  // namespace mesh::xds::security
