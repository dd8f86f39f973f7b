#include "controlplane/xds/http_route_spec.h"

#include <algorithm>
#include <array>

#include "controlplane/model/node_values.h"

namespace mesh::xds {
namespace {

using core::Node;
using core::Resource;
using model::items;
using model::text;

// Fields a delegate's route inherits from the root's when unset (Istio's mergeHTTPRoute).
constexpr std::array<std::string_view, 10> kInherited = {"rewrite", "timeout", "retries", "fault", "mirror",
                                                         "mirrorPercent", "mirrorPercentage", "mirrors",
                                                         "corsPolicy", "headers"};

// A delegate is a VirtualService without hosts, visible to the root's namespace by exportTo.
const Resource* findDelegate(const model::ConfigSnapshot& snapshot, const Resource& root, const Node* ref) {
  std::string_view name = text(ref, "name");
  std::string_view ns = text(ref, "namespace");
  if (ns.empty()) ns = root.namespace_();
  for (const Resource* vs : snapshot.ofKind("networking.istio.io", "VirtualService")) {
    if (vs->name() != name || vs->namespace_() != ns) continue;
    const Node* spec = vs->spec();
    if (!spec || !items(spec->get("hosts")).empty()) return nullptr;
    auto exportTo = model::stringList(spec->get("exportTo"));
    if (exportTo.empty()) return vs;
    for (const std::string& e : exportTo)
      if (e == "*" || e == root.namespace_() || (e == "." && vs->namespace_() == root.namespace_())) return vs;
    return nullptr;
  }
  return nullptr;
}

std::vector<MatchCondition> parseMatches(const Node* http, std::string_view ns) {
  std::vector<MatchCondition> out;
  for (const Node* m : items(http->get("match"))) out.push_back(MatchCondition::parse(m, ns));
  return out;
}

// Istio's mergeHTTPMatchRequests: every leaf match must fit under some root match; each
// compatible pair yields one merged match. false on conflict.
bool mergeMatches(const std::vector<MatchCondition>& root, const std::vector<MatchCondition>& leaf,
                  std::vector<MatchCondition>& out) {
  if (root.empty()) {
    out = leaf;
    return true;
  }
  if (leaf.empty()) {
    out = root;
    return true;
  }
  for (const MatchCondition& l : leaf) {
    bool found = false;
    for (const MatchCondition& r : root)
      if (auto merged = mergeMatch(r, l)) {
        out.push_back(std::move(*merged));
        found = true;
      }
    if (!found) return false;
  }
  return !out.empty();
}

}  // namespace

HttpRouteSpec::Field HttpRouteSpec::get(std::string_view key) const {
  if (const Node* n = http ? http->get(key) : nullptr) return Field{n, owner->namespace_()};
  if (root && std::ranges::find(kInherited, key) != kInherited.end())
    if (const Node* n = root->get(key)) return Field{n, rootOwner->namespace_()};
  return Field{};
}

std::vector<HttpRouteSpec> expandHttpRoutes(const model::ConfigSnapshot& snapshot, const Resource& vs) {
  std::vector<HttpRouteSpec> out;
  const Node* spec = vs.spec();
  for (const Node* http : items(spec ? spec->get("http") : nullptr)) {
    const Node* ref = http->get("delegate");
    if (!ref) {
      HttpRouteSpec s;
      s.owner = &vs;
      s.http = http;
      s.name = std::string(text(http, "name"));
      s.matches = parseMatches(http, vs.namespace_());
      out.push_back(std::move(s));
      continue;
    }
    const Resource* delegate = findDelegate(snapshot, vs, ref);
    if (!delegate) continue;
    std::vector<MatchCondition> rootMatches = parseMatches(http, vs.namespace_());
    std::string rootName(text(http, "name"));
    for (const Node* sub : items(delegate->spec()->get("http"))) {
      HttpRouteSpec s;
      s.owner = delegate;
      s.http = sub;
      s.rootOwner = &vs;
      s.root = http;
      if (!mergeMatches(rootMatches, parseMatches(sub, delegate->namespace_()), s.matches)) continue;
      std::string subName(text(sub, "name"));
      s.name = subName.empty() ? rootName : rootName.empty() ? subName : rootName + "-" + subName;
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<const Resource*> delegatesOf(const model::ConfigSnapshot& snapshot, const Resource& vs) {
  std::vector<const Resource*> out;
  const Node* spec = vs.spec();
  for (const Node* http : items(spec ? spec->get("http") : nullptr))
    if (const Node* ref = http->get("delegate"))
      if (const Resource* d = findDelegate(snapshot, vs, ref)) out.push_back(d);
  return out;
}

}  // namespace mesh::xds
