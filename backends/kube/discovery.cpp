#include "backends/kube/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backends/kube/codec.h"
#include "core/kinds.h"

namespace mesh::backends::kube {
namespace {

std::string gvKey(std::string_view group, std::string_view version) {
  return group.empty() ? std::string(version) : fmt::format("{}/{}", group, version);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string kindName(const core::GroupKind& k) {
  return k.group.empty() ? k.kind : k.kind + "." + k.group;
}

}  // namespace

std::string ApiResource::collectionPath(std::string_view ns) const {
  std::string out =
      group.empty() ? fmt::format("/api/{}", version) : fmt::format("/apis/{}/{}", group, version);
  if (namespaced && !ns.empty()) out += fmt::format("/namespaces/{}", ns);
  return out + "/" + plural;
}

std::string ApiResource::objectPath(std::string_view ns, std::string_view name) const {
  return collectionPath(ns) + "/" + std::string(name);
}

bool ApiResource::supports(std::string_view verb) const {
  return verbs.empty() || std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Discovery::Discovery(std::shared_ptr<RestClient> client, std::chrono::milliseconds minRefresh)
    : client_(std::move(client)), minRefresh_(minRefresh) {}

void Discovery::invalidate() {
  std::lock_guard lock(mu_);
  groupsLoaded_ = false;
  groups_.clear();
  resources_.clear();
  misses_.clear();
}

Result<void> Discovery::loadGroups() {
  std::map<std::string, Group> groups;
  auto core = client_->call({.method = "GET", .path = "/api"});
  if (!core) return Failure(core.error());
  auto coreDoc = parseJson(core->body, "the API server's /api");
  if (!coreDoc) return Failure(coreDoc.error());
  if (auto v = coreDoc->find("versions"); v != coreDoc->end() && v->is_array())
    for (const auto& version : *v)
      if (version.is_string()) groups[""].versions.push_back(version.get<std::string>());

  auto apis = client_->call({.method = "GET", .path = "/apis"});
  if (!apis) return Failure(apis.error());
  auto doc = parseJson(apis->body, "the API server's /apis");
  if (!doc) return Failure(doc.error());
  if (auto list = doc->find("groups"); list != doc->end() && list->is_array()) {
    for (const auto& g : *list) {
      std::string name = stringAt(g, "name");
      if (name.empty()) continue;
      Group group;
      std::string preferred;
      if (auto p = g.find("preferredVersion"); p != g.end()) preferred = stringAt(*p, "version");
      if (!preferred.empty()) group.versions.push_back(preferred);
      if (auto vs = g.find("versions"); vs != g.end() && vs->is_array())
        for (const auto& v : *vs) {
          std::string version = stringAt(v, "version");
          if (!version.empty() && version != preferred) group.versions.push_back(version);
        }
      groups[name] = std::move(group);
    }
  }
  groups_ = std::move(groups);
  resources_.clear();  // fetched again as needed: a group version may have gained a kind
  groupsLoaded_ = true;
  return {};
}

Result<const Discovery::Resources*> Discovery::loadResources(const std::string& gv) {
  auto it = resources_.find(gv);
  if (it != resources_.end()) return &it->second;
  std::string path = gv.find('/') == std::string::npos ? "/api/" + gv : "/apis/" + gv;
  auto response = client_->send({.method = "GET", .path = path});
  if (!response) return Failure(response.error());
  Resources resources;
  if (response->status == 404) {
    // The group version went away since /apis was read (a CRD deleted): it serves nothing.
  } else if (response->status >= 400) {
    return Failure(client_->errorFor({.method = "GET", .path = path}, *response));
  } else {
    auto doc = parseJson(response->body, fmt::format("the API server's {}", path));
    if (!doc) return Failure(doc.error());
    auto [group, version] = core::splitApiVersion(gv);
    if (auto list = doc->find("resources"); list != doc->end() && list->is_array()) {
      for (const auto& r : *list) {
        std::string name = stringAt(r, "name");
        if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
        ApiResource res;
        res.group = std::string(group);
        res.version = std::string(version);
        res.kind = stringAt(r, "kind");
        res.plural = name;
        auto ns = r.find("namespaced");
        res.namespaced = ns != r.end() && ns->is_boolean() && ns->get<bool>();
        if (auto verbs = r.find("verbs"); verbs != r.end() && verbs->is_array())
          for (const auto& v : *verbs)
            if (v.is_string()) res.verbs.push_back(v.get<std::string>());
        resources.push_back(std::move(res));
      }
    }
  }
  auto& slot = resources_[gv];
  slot = std::move(resources);
  return &slot;
}

Result<std::vector<std::string>> Discovery::versions(std::string_view group) {
  std::lock_guard lock(mu_);
  if (!groupsLoaded_)
    if (auto r = loadGroups(); !r) return Failure(r.error());
  auto it = groups_.find(std::string(group));
  if (it == groups_.end() || it->second.versions.empty())
    return fail(ErrorCode::NotFound,
                fmt::format("the API server does not serve the API group \"{}\"", group));
  return it->second.versions;
}

Result<ApiResource> Discovery::lookup(const core::GroupKind& kind, std::string_view version) {
  auto git = groups_.find(kind.group);
  if (git == groups_.end())
    return fail(ErrorCode::NotFound,
                fmt::format("{} is not served by the API server: it has no API group \"{}\"",
                            kindName(kind), kind.group),
                kind.group.empty() ? std::string()
                                   : "install the CustomResourceDefinitions that define it");
  const std::vector<std::string>& served = git->second.versions;
  std::vector<std::string> candidates;
  if (!version.empty()) {
    if (std::find(served.begin(), served.end(), version) == served.end())
      return fail(ErrorCode::NotFound,
                  fmt::format("{}/{} is not served by the API server (it serves {})",
                              kind.group.empty() ? "core" : kind.group, version, join(served)));
    candidates.emplace_back(version);
  } else {
    // Our table's order first (the version meshctl understands best), then the server's.
    if (const core::KindInfo* info = core::findKind(kind.group, kind.kind))
      for (auto v : info->versions)
        if (std::find(served.begin(), served.end(), v) != served.end()) candidates.emplace_back(v);
    for (const auto& v : served)
      if (std::find(candidates.begin(), candidates.end(), v) == candidates.end())
        candidates.push_back(v);
  }
  for (const auto& v : candidates) {
    auto resources = loadResources(gvKey(kind.group, v));
    if (!resources) return Failure(resources.error());
    for (const auto& r : **resources)
      if (r.kind == kind.kind) return r;
  }
  return fail(
      ErrorCode::NotFound,
      fmt::format("{} is not served by the API server (group \"{}\" serves {} but not this kind)",
                  kindName(kind), kind.group, join(served)),
      kind.group.empty() ? std::string() : "install the CustomResourceDefinition that defines it");
}

Result<ApiResource> Discovery::find(const core::GroupKind& kind, std::string_view version,
                                    bool mayRefresh) {
  bool fresh = false;
  if (!groupsLoaded_) {
    if (auto r = loadGroups(); !r) return Failure(r.error());
    fresh = true;
  }
  auto found = lookup(kind, version);
  if (found || found.error().code != ErrorCode::NotFound) {
    if (found) misses_.erase(kind);
    return found;
  }
  // misses_ holds when absence was last confirmed by data fetched for it.
  auto now = std::chrono::steady_clock::now();
  auto missed = misses_.find(kind);
  if (missed != misses_.end() && now - missed->second < minRefresh_) return found;
  if (fresh || !mayRefresh) {
    misses_[kind] = now;
    return found;
  }
  if (auto r = loadGroups(); !r) return Failure(r.error());
  found = lookup(kind, version);
  if (found)
    misses_.erase(kind);
  else
    misses_[kind] = now;
  return found;
}

Result<ApiResource> Discovery::resolve(const core::GroupKind& kind, std::string_view version) {
  std::lock_guard lock(mu_);
  return find(kind, version, true);
}

std::vector<Result<ApiResource>> Discovery::resolveAll(const std::vector<core::GroupKind>& kinds) {
  std::lock_guard lock(mu_);
  std::vector<Result<ApiResource>> out;
  out.reserve(kinds.size());
  if (auto r = loadGroups(); !r) {
    out.assign(kinds.size(), Failure(r.error()));
    return out;
  }
  for (const auto& k : kinds) out.push_back(find(k, {}, false));
  return out;
}

}  // namespace mesh::backends::kube
