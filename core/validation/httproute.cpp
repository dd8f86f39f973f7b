// Gateway API HTTPRoute rules (the CRD's CEL validations and webhook): parent references,
// hostnames, path matches by type, RE2 regexes, header names, filters that match their type,
// backend weights and ports, timeouts.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "core/validation/duration.h"
#include "core/validation/fields.h"
#include "core/validation/gateway_api_rules.h"
#include "core/validation/istio_rules.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void checkPathMatch(const Node* path, const std::string& p, ValidationContext& ctx) {
  if (!isMap(path)) return;
  std::string_view type = text(path, "type");
  if (type.empty()) type = "PathPrefix";
  const Node* value = field(path, "value");
  auto v = stringOf(value);
  if (!v) return;
  if (type == "RegularExpression") {
    checkRegexNode(value, sub(p, "value"), ctx);
    return;
  }
  if (!v->starts_with('/')) ctx.error(value, sub(p, "value"), fmt::format("path \"{}\" must start with '/'", *v));
  else if (v->find("//") != std::string_view::npos) ctx.error(value, sub(p, "value"), fmt::format("path \"{}\" must not contain '//'", *v));
}

void checkNamedMatches(const Node* match, std::string_view list, const std::string& p, bool headers, ValidationContext& ctx) {
  std::set<std::string> names;
  auto ms = items(match, list);
  for (size_t i = 0; i < ms.size(); ++i) {
    std::string mp = at(sub(p, list), i);
    const Node* name = field(ms[i], "name");
    if (auto n = stringOf(name)) {
      if (headers)
        if (std::string err = checkHeaderName(*n); !err.empty()) ctx.error(name, sub(mp, "name"), err);
      // Header names compare case-insensitively; query parameter names exactly.
      if (!names.insert(headers ? lower(*n) : std::string(*n)).second)
        ctx.error(name, sub(mp, "name"), fmt::format("\"{}\" is matched twice in the same match", *n));
    }
    if (text(ms[i], "type") == "RegularExpression") checkRegexNode(field(ms[i], "value"), sub(mp, "value"), ctx);
  }
}

void checkPathModifier(const Node* mod, const std::string& p, ValidationContext& ctx) {
  if (!isMap(mod)) return;
  std::string_view type = text(mod, "type");
  if (type == "ReplaceFullPath" && !field(mod, "replaceFullPath"))
    ctx.error(mod, sub(p, "replaceFullPath"), "type ReplaceFullPath needs replaceFullPath");
  if (type == "ReplacePrefixMatch" && !field(mod, "replacePrefixMatch"))
    ctx.error(mod, sub(p, "replacePrefixMatch"), "type ReplacePrefixMatch needs replacePrefixMatch");
  if (type == "ReplaceFullPath" && field(mod, "replacePrefixMatch"))
    ctx.error(field(mod, "replacePrefixMatch"), sub(p, "replacePrefixMatch"), "replacePrefixMatch is only allowed with type ReplacePrefixMatch");
  if (type == "ReplacePrefixMatch" && field(mod, "replaceFullPath"))
    ctx.error(field(mod, "replaceFullPath"), sub(p, "replaceFullPath"), "replaceFullPath is only allowed with type ReplaceFullPath");
}

// Each filter sets the one field its type names, and no other.
void checkFilters(const Node* owner, const std::string& p, ValidationContext& ctx) {
  static const std::pair<std::string_view, std::string_view> kFields[] = {
      {"RequestHeaderModifier", "requestHeaderModifier"}, {"ResponseHeaderModifier", "responseHeaderModifier"},
      {"RequestMirror", "requestMirror"},                 {"RequestRedirect", "requestRedirect"},
      {"URLRewrite", "urlRewrite"},                       {"ExtensionRef", "extensionRef"},
      {"CORS", "cors"}};
  auto filters = items(owner, "filters");
  std::set<std::string_view> seen;
  for (size_t i = 0; i < filters.size(); ++i) {
    std::string fp = at(sub(p, "filters"), i);
    const Node* f = filters[i];
    std::string_view type = text(f, "type");
    for (auto [t, name] : kFields) {
      bool set = field(f, name) != nullptr;
      if (t == type && !set) ctx.error(f, sub(fp, name), fmt::format("filter type {} needs {}", type, name));
      if (t != type && set) ctx.error(field(f, name), sub(fp, name), fmt::format("{} is only allowed with filter type {}", name, t));
    }
    if (type != "RequestMirror" && type != "ExtensionRef" && !type.empty() && !seen.insert(type).second)
      ctx.error(field(f, "type"), sub(fp, "type"), fmt::format("filter {} may appear only once", type));
    if (const Node* redirect = field(f, "requestRedirect")) {
      const Node* code = field(redirect, "statusCode");
      if (auto c = intOf(code); c && *c != 301 && *c != 302 && *c != 303 && *c != 307 && *c != 308)
        ctx.error(code, sub(fp, "requestRedirect.statusCode"), fmt::format("statusCode {} is not allowed: use 301, 302, 303, 307 or 308", *c));
      if (const Node* port = field(redirect, "port")) checkPortNumber(port, sub(fp, "requestRedirect.port"), ctx);
      checkPathModifier(field(redirect, "path"), sub(fp, "requestRedirect.path"), ctx);
    }
    if (const Node* rewrite = field(f, "urlRewrite")) checkPathModifier(field(rewrite, "path"), sub(fp, "urlRewrite.path"), ctx);
    for (std::string_view hm : {"requestHeaderModifier", "responseHeaderModifier"})
      for (std::string_view op : {"set", "add"}) {
        auto hs = items(field(f, hm), op);
        for (size_t j = 0; j < hs.size(); ++j)
          if (auto n = stringOf(field(hs[j], "name")))
            if (std::string err = checkHeaderName(*n); !err.empty())
              ctx.error(field(hs[j], "name"), sub(at(sub(sub(fp, hm), op), j), "name"), err);
      }
  }
  if (seen.contains("RequestRedirect") && seen.contains("URLRewrite"))
    ctx.error(field(owner, "filters"), sub(p, "filters"), "RequestRedirect and URLRewrite cannot be used together");
}

void checkBackendRef(const Node* ref, const std::string& p, ValidationContext& ctx) {
  std::string_view group = text(ref, "group"), kind = text(ref, "kind");
  const Node* port = field(ref, "port");
  if ((group.empty() || group == "core") && (kind.empty() || kind == "Service") && !port)
    ctx.error(ref, sub(p, "port"), "port is required when the backend is a Service");
  if (port) checkPortNumber(port, sub(p, "port"), ctx);
  const Node* weight = field(ref, "weight");
  if (auto w = intOf(weight); w && (*w < 0 || *w > 1000000))
    ctx.error(weight, sub(p, "weight"), fmt::format("weight {} is out of range 0..1000000", *w));
}

}  // namespace

void validateHttpRoute(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  auto parents = items(spec, "parentRefs");
  for (size_t i = 0; i < parents.size(); ++i)
    if (const Node* port = field(parents[i], "port")) checkPortNumber(port, sub(at("spec.parentRefs", i), "port"), ctx);
  auto hostnames = items(spec, "hostnames");
  for (size_t i = 0; i < hostnames.size(); ++i)
    if (auto h = stringOf(hostnames[i]))
      if (std::string err = checkGatewayHostname(*h); !err.empty()) ctx.error(hostnames[i], at("spec.hostnames", i), err);
  auto rules = items(spec, "rules");
  if (rules.size() > 16) ctx.error(field(spec, "rules"), "spec.rules", "an HTTPRoute has at most 16 rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string p = at("spec.rules", i);
    const Node* rule = rules[i];
    auto matches = items(rule, "matches");
    bool allPrefix = true;
    for (size_t j = 0; j < matches.size(); ++j) {
      std::string mp = at(sub(p, "matches"), j);
      checkPathMatch(field(matches[j], "path"), sub(mp, "path"), ctx);
      std::string_view type = text(field(matches[j], "path"), "type");
      allPrefix = allPrefix && (type.empty() || type == "PathPrefix");
      checkNamedMatches(matches[j], "headers", mp, true, ctx);
      checkNamedMatches(matches[j], "queryParams", mp, false, ctx);
    }
    checkFilters(rule, p, ctx);
    // ReplacePrefixMatch rewrites the matched prefix, so every match must be a prefix match.
    for (const Node* f : items(rule, "filters")) {
      for (std::string_view owner : {"urlRewrite", "requestRedirect"})
        if (text(field(field(f, owner), "path"), "type") == "ReplacePrefixMatch" && !allPrefix)
          ctx.error(field(field(f, owner), "path"), sub(p, "filters"), "ReplacePrefixMatch needs every match of the rule to be a PathPrefix match");
    }
    auto backends = items(rule, "backendRefs");
    bool redirect = false;
    for (const Node* f : items(rule, "filters")) redirect = redirect || text(f, "type") == "RequestRedirect";
    if (redirect && !backends.empty())
      ctx.error(field(rule, "backendRefs"), sub(p, "backendRefs"), "a rule with a RequestRedirect filter cannot have backendRefs");
    for (size_t j = 0; j < backends.size(); ++j) {
      std::string bp = at(sub(p, "backendRefs"), j);
      checkBackendRef(backends[j], bp, ctx);
      checkFilters(backends[j], bp, ctx);
    }
    const Node* timeouts = field(rule, "timeouts");
    auto request = parseDuration(text(timeouts, "request"));
    auto backend = parseDuration(text(timeouts, "backendRequest"));
    if (request && backend && *request != 0 && *backend > *request)
      ctx.error(field(timeouts, "backendRequest"), sub(p, "timeouts.backendRequest"),
                "backendRequest timeout must not be longer than the request timeout");
  }
}

}  // namespace mesh::core
