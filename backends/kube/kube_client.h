// KubeClient: the Kubernetes API verbs over RestClient, on JSON objects: get, list (pages
// followed transparently), create, server-side apply, delete, a single watch request, and
// watch() — a list+watch loop (Reflector) that survives 410 Gone and disconnects. Errors come
// back as clear messages (status_error.h). Thread-safe; share one per cluster.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "backends/kube/discovery.h"
#include "backends/kube/kubeconfig.h"
#include "backends/kube/rest_client.h"
#include "backends/kube/watch_decoder.h"

namespace mesh::backends::kube {

class Reflector;
struct ReflectorOptions;
struct ReflectorHandler;

struct ListOptions {
  std::string namespace_{};  // "" all namespaces (ignored for cluster-scoped resources)
  std::string labelSelector{};
  std::string fieldSelector{};
  int64_t pageSize = 500;  // limit= of each page; 0 asks for everything at once
};

struct ObjectList {
  std::vector<nlohmann::json> items{};  // each with apiVersion and kind set
  std::string resourceVersion{};        // of the list: watch from here
};

struct ApplyOptions {
  std::string fieldManager = "meshctl";
  bool force = false;   // take over fields other managers own instead of failing on conflict
  bool dryRun = false;  // dryRun=All: validated and defaulted, not stored
};

struct DeleteOptions {
  std::string propagationPolicy{};  // Foreground, Background, Orphan; "" the server's default
  std::optional<std::string> resourceVersion{};  // precondition
  std::optional<std::string> uid{};              // precondition
  std::optional<int64_t> gracePeriodSeconds{};
  bool dryRun = false;
};

struct WatchRequest {
  std::string namespace_{};
  std::string labelSelector{};
  std::string fieldSelector{};
  std::string resourceVersion{};  // from here; "" from now (the server's choice)
  bool allowBookmarks = true;
  std::chrono::seconds timeout{300};  // the server ends the stream after this
};

// How a single watch request ended.
struct WatchEnd {
  std::string resourceVersion{};  // of the last event seen (bookmarks included); "" if none
  bool gone = false;              // 410: the history is compacted, list again
  std::optional<Error> error{};   // an ERROR event or a failed request; unset for a clean end
  size_t events = 0;
};

class KubeClient {
 public:
  // RestClient for `config`, plus discovery. Connects lazily.
  static Result<std::shared_ptr<KubeClient>> create(RestConfig config,
                                                    RestClientOptions options = {});
  explicit KubeClient(std::shared_ptr<RestClient> rest);

  RestClient& rest() { return *rest_; }
  Discovery& discovery() { return discovery_; }
  const std::string& defaultNamespace() const { return rest_->config().namespace_; }
  // "https://host:6443 (context kind-x)": the cluster in messages.
  std::string describe() const;

  Result<nlohmann::json> get(const ApiResource& resource, std::string_view ns,
                             std::string_view name, std::stop_token stop = {});
  // Every page of the list, consistently (the first page's snapshot); a continue token that
  // expires midway (410) restarts the list in one piece, as client-go's pager does.
  Result<ObjectList> list(const ApiResource& resource, const ListOptions& options = {},
                          std::stop_token stop = {});
  // `object` names its namespace, or gets the client's default namespace.
  Result<nlohmann::json> create(const ApiResource& resource, const nlohmann::json& object,
                                bool dryRun = false);
  // Server-side apply: PATCH application/apply-patch+yaml (JSON is YAML) with fieldManager.
  Result<nlohmann::json> apply(const ApiResource& resource, const nlohmann::json& object,
                               const ApplyOptions& options = {});
  // The deleted object as the server returned it (a Status for some kinds).
  Result<nlohmann::json> remove(const ApiResource& resource, std::string_view ns,
                                std::string_view name, const DeleteOptions& options = {});
  // Any other request; statuses >= 400 become Errors.
  Result<HttpResponse> raw(const HttpRequest& request, std::stop_token stop = {}) {
    return rest_->call(request, stop);
  }

  // One watch request: `onEvent` runs (on the transport thread) for each ADDED, MODIFIED,
  // DELETED and BOOKMARK event until the server ends the stream, an ERROR event arrives, or
  // `stop` is requested.
  WatchEnd watchOnce(const ApiResource& resource, const WatchRequest& request,
                     const std::function<void(WatchEvent&&)>& onEvent, std::stop_token stop);
  // list+watch until the Reflector is destroyed (reflector.h); this client must outlive it.
  std::unique_ptr<Reflector> watch(const ApiResource& resource, ReflectorOptions options,
                                   ReflectorHandler handler);

 private:
  std::string namespaceOf(const ApiResource& resource, const nlohmann::json& object) const;
  Result<nlohmann::json> objectFrom(const HttpRequest& request, const HttpResponse& response) const;

  std::shared_ptr<RestClient> rest_;
  Discovery discovery_;
};

// Sets apiVersion and kind on an object that lacks them (items of built-in lists do).
void setTypeMeta(nlohmann::json& object, const ApiResource& resource);
// metadata.<key> as a string; "" when absent.
std::string metadataString(const nlohmann::json& object, std::string_view key);

}  // namespace mesh::backends::kube
