// AuthorizationPolicy rules, after Istio's ValidateAuthorizationPolicy and pkg/config/security:
// action and provider, non-empty from/to/when elements, IPs and CIDRs, ports, path templates and
// the condition keys Istio knows.
#include <charconv>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace {

constexpr std::string_view kSourceFields[] = {
    "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
    "serviceAccounts", "notServiceAccounts", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"};
constexpr std::string_view kOperationFields[] = {"hosts", "notHosts", "ports", "notPorts",
                                                 "methods", "notMethods", "paths", "notPaths"};

void checkIps(const Node* owner, std::string_view name, const std::string& path, ValidationContext& ctx) {
  auto list = items(owner, name);
  for (size_t i = 0; i < list.size(); ++i)
    if (auto s = stringOf(list[i]); s && !s->empty())
      if (std::string err = checkIpOrCidr(*s); !err.empty()) ctx.error(list[i], at(sub(path, name), i), err);
}

void checkPortStrings(std::span<const Node* const> list, const std::string& path, ValidationContext& ctx) {
  for (size_t i = 0; i < list.size(); ++i) {
    auto s = stringOf(list[i]);
    if (!s || s->empty()) continue;
    uint32_t port = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), port);
    if (ec != std::errc() || ptr != s->data() + s->size() || port > 65535)
      ctx.error(list[i], at(path, i), fmt::format("port \"{}\" must be a number in 0..65535", *s));
  }
}

void checkNoEmptyValues(const Node* owner, std::string_view name, const std::string& path, ValidationContext& ctx) {
  auto list = items(owner, name);
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i]->isScalar() && list[i]->text().empty()) ctx.error(list[i], at(sub(path, name), i), "empty values are not allowed");
}

// Istio's path templates: {*} matches one segment, {**} the rest and must come last.
void checkPathTemplates(const Node* owner, std::string_view name, const std::string& path, ValidationContext& ctx) {
  auto list = items(owner, name);
  for (size_t i = 0; i < list.size(); ++i) {
    auto s = stringOf(list[i]);
    if (!s || (s->find('{') == std::string_view::npos && s->find('}') == std::string_view::npos)) continue;
    std::string p = at(sub(path, name), i);
    if (!s->starts_with('/')) {
      ctx.error(list[i], p, fmt::format("path template \"{}\" must start with '/'", *s));
      continue;
    }
    std::string_view rest = s->substr(1);
    while (true) {
      size_t slash = rest.find('/');
      std::string_view seg = rest.substr(0, slash);
      bool last = slash == std::string_view::npos;
      if (seg.find('{') != std::string_view::npos || seg.find('}') != std::string_view::npos) {
        if (seg != "{*}" && seg != "{**}") {
          ctx.error(list[i], p, fmt::format("path template \"{}\": a segment may only be {{*}} or {{**}}", *s));
          break;
        }
        if (seg == "{**}" && !last) {
          ctx.error(list[i], p, fmt::format("path template \"{}\": {{**}} must be the last segment", *s));
          break;
        }
      }
      if (last) break;
      rest = rest.substr(slash + 1);
    }
  }
}

// `request.headers[x-user]`: a non-empty name in brackets.
bool isMapKey(std::string_view key, std::string_view prefix) {
  return key.size() > prefix.size() + 2 && key[prefix.size()] == '[' && key.back() == ']';
}

std::string checkConditionKey(std::string_view key) {
  static constexpr std::string_view kPlain[] = {
      "source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount",
      "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip",
      "destination.port", "connection.sni"};
  for (auto k : kPlain)
    if (key == k) return {};
  if (key.starts_with("request.headers")) return isMapKey(key, "request.headers") ? "" : "use request.headers[<name>]";
  if (key.starts_with("request.auth.claims"))
    return isMapKey(key, "request.auth.claims") ? "" : "use request.auth.claims[<claim>]";
  if (key.starts_with("experimental.envoy.filters.")) return {};
  return fmt::format("unknown condition key \"{}\": use request.headers[...], source.ip, remote.ip, "
                     "source.namespace, source.principal, request.auth.principal, request.auth.audiences, "
                     "request.auth.presenter, request.auth.claims[...], destination.ip, destination.port, "
                     "connection.sni or experimental.envoy.filters.*",
                     key);
}

void checkCondition(const Node* c, const std::string& path, ValidationContext& ctx) {
  const Node* keyNode = field(c, "key");
  auto key = stringOf(keyNode);
  if (!key) return;
  if (key->empty()) {
    ctx.error(keyNode, sub(path, "key"), "condition key must not be empty");
    return;
  }
  if (!isSet(c, "values") && !isSet(c, "notValues")) {
    ctx.error(c, path, fmt::format("condition on {} needs values or notValues", *key));
    return;
  }
  if (std::string err = checkConditionKey(*key); !err.empty()) {
    ctx.error(keyNode, sub(path, "key"), err.starts_with("use") ? fmt::format("invalid condition key \"{}\": {}", *key, err) : err);
    return;
  }
  for (std::string_view f : {"values", "notValues"}) {
    if (*key == "source.ip" || *key == "remote.ip" || *key == "destination.ip") checkIps(c, f, path, ctx);
    if (*key == "destination.port") checkPortStrings(items(c, f), sub(path, f), ctx);
  }
}

}  // namespace

void validateAuthorizationPolicy(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  checkPolicyTargets(spec, ctx);
  std::string_view action = text(spec, "action");
  if (action.empty()) action = "ALLOW";
  const Node* rules = field(spec, "rules");
  const Node* provider = field(spec, "provider");
  if (action == "CUSTOM") {
    if (!rules)
      ctx.error(spec ? spec : &r.root(), "spec.rules",
                "action CUSTOM without rules never triggers: add an empty rule {} to apply it to every request");
    else if (text(provider, "name").empty())
      ctx.error(provider ? provider : spec, "spec.provider.name", "action CUSTOM needs provider.name");
  } else if (provider) {
    ctx.error(provider, "spec.provider", fmt::format("provider is only allowed with action CUSTOM, not {}", action));
  }
  if (action == "DENY" && !rules)
    ctx.error(spec ? spec : &r.root(), "spec.rules",
              "action DENY without rules never triggers: add an empty rule {} to apply it to every request");

  auto list = items(spec, "rules");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string rp = at("spec.rules", i);
    const Node* rule = list[i];
    if (const Node* from = field(rule, "from"); from && from->size() == 0)
      ctx.error(from, sub(rp, "from"), "from must not be empty: remove it or add a source");
    auto froms = items(rule, "from");
    for (size_t j = 0; j < froms.size(); ++j) {
      std::string fp = at(sub(rp, "from"), j);
      const Node* source = field(froms[j], "source");
      if (!isMap(source)) {
        ctx.error(froms[j], sub(fp, "source"), "from needs a source");
        continue;
      }
      std::string sp = sub(fp, "source");
      bool any = false;
      for (auto f : kSourceFields) any = any || isSet(source, f);
      if (!any) ctx.error(source, sp, "source must not be empty");
      for (auto f : {"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"}) checkIps(source, f, sp, ctx);
      for (auto f : kSourceFields) checkNoEmptyValues(source, f, sp, ctx);
      if (action == "CUSTOM")
        for (auto f : {"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces"})
          if (isSet(source, f)) ctx.error(field(source, f), sub(sp, f), fmt::format("{} is not supported with action CUSTOM", f));
    }
    if (const Node* to = field(rule, "to"); to && to->size() == 0)
      ctx.error(to, sub(rp, "to"), "to must not be empty: remove it or add an operation");
    auto tos = items(rule, "to");
    for (size_t j = 0; j < tos.size(); ++j) {
      std::string tp = at(sub(rp, "to"), j);
      const Node* op = field(tos[j], "operation");
      if (!isMap(op)) {
        ctx.error(tos[j], sub(tp, "operation"), "to needs an operation");
        continue;
      }
      std::string op_ = sub(tp, "operation");
      bool any = false;
      for (auto f : kOperationFields) any = any || isSet(op, f);
      if (!any) ctx.error(op, op_, "operation must not be empty");
      checkPortStrings(items(op, "ports"), sub(op_, "ports"), ctx);
      checkPortStrings(items(op, "notPorts"), sub(op_, "notPorts"), ctx);
      for (auto f : kOperationFields) checkNoEmptyValues(op, f, op_, ctx);
      checkPathTemplates(op, "paths", op_, ctx);
      checkPathTemplates(op, "notPaths", op_, ctx);
    }
    auto whens = items(rule, "when");
    for (size_t j = 0; j < whens.size(); ++j) {
      std::string wp = at(sub(rp, "when"), j);
      checkCondition(whens[j], wp, ctx);
      std::string_view key = text(whens[j], "key");
      if (action == "CUSTOM" && (key == "source.namespace" || key == "source.principal" || key.starts_with("request.auth.")))
        ctx.error(field(whens[j], "key"), sub(wp, "key"), fmt::format("condition on {} is not supported with action CUSTOM", key));
    }
  }
}

}  // namespace mesh::core
