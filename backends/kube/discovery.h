// Discovery: which API groups, versions and resources the server serves (/api, /apis,
// /apis/<group>/<version>), to map a kind to its REST path. Group versions are fetched when
// first needed and cached. A miss refreshes them, so a kind whose CRD was just created is found;
// a kind that missed is not asked for again within `minRefresh`, so polling for an absent kind
// does not hammer the server. Thread-safe; requests run on the caller's thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/kube/rest_client.h"
#include "core/store/config_store.h"

namespace mesh::backends::kube {

struct ApiResource {
  std::string group{};
  std::string version{};
  std::string kind{};
  std::string plural{};
  bool namespaced = true;
  std::vector<std::string> verbs{};

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/apis/apps/v1/namespaces/x/deployments"; `ns` is ignored for cluster-scoped resources and
  // "" means all namespaces.
  std::string collectionPath(std::string_view ns = {}) const;
  std::string objectPath(std::string_view ns, std::string_view name) const;
  bool supports(std::string_view verb) const;
  // "deployments.apps": kubectl's resource.group form.
  std::string resourceName() const { return group.empty() ? plural : plural + "." + group; }
};

class Discovery {
 public:
  explicit Discovery(std::shared_ptr<RestClient> client,
                     std::chrono::milliseconds minRefresh = std::chrono::milliseconds(500));

  // The resource serving `kind`: in `version` when given; otherwise the first of core/kinds.h's
  // versions for it that the server serves, else the group's preferred version. NotFound (with
  // what the server does serve) when there is none.
  Result<ApiResource> resolve(const core::GroupKind& kind, std::string_view version = {});
  // Many kinds against one view of the server, fetched now: no refresh per miss, for callers
  // that resolve a whole table at start-up.
  std::vector<Result<ApiResource>> resolveAll(const std::vector<core::GroupKind>& kinds);
  // The versions the server serves for `group`, preferred first; NotFound when none.
  Result<std::vector<std::string>> versions(std::string_view group);
  // Forgets everything: the next call asks the server again.
  void invalidate();

 private:
  struct Group {
    std::vector<std::string> versions{};  // preferred first
  };
  using Resources = std::vector<ApiResource>;

  Result<void> loadGroups();                                      // with mu_ held
  Result<const Resources*> loadResources(const std::string& gv);  // with mu_ held
  // With mu_ held. `mayRefresh`: a miss reloads everything once and looks again.
  Result<ApiResource> find(const core::GroupKind& kind, std::string_view version, bool mayRefresh);
  Result<ApiResource> lookup(const core::GroupKind& kind, std::string_view version);

  std::shared_ptr<RestClient> client_;
  const std::chrono::milliseconds minRefresh_;
  std::mutex mu_;  // everything below; held across the requests that fill it
  bool groupsLoaded_ = false;
  std::map<std::string, Group> groups_;
  std::map<std::string, Resources> resources_;  // by "group/version" ("v1" for core)
  std::map<core::GroupKind, std::chrono::steady_clock::time_point>
      misses_;  // when each last missed
};

}  // namespace mesh::backends::kube
