#include "backends/kube/kube_client.h"

#include <fmt/format.h>

#include "backends/kube/codec.h"
#include "backends/kube/reflector.h"

namespace mesh::backends::kube {
namespace {

HttpRequest collectionGet(const ApiResource& r, std::string_view ns, std::string_view labels,
                          std::string_view fields) {
  HttpRequest req{.method = "GET", .path = r.collectionPath(ns)};
  if (!labels.empty()) req.query.emplace_back("labelSelector", labels);
  if (!fields.empty()) req.query.emplace_back("fieldSelector", fields);
  return req;
}

}  // namespace

void setTypeMeta(nlohmann::json& object, const ApiResource& resource) {
  if (!object.is_object()) return;
  if (!object.contains("apiVersion")) object["apiVersion"] = resource.apiVersion();
  if (!object.contains("kind")) object["kind"] = resource.kind;
}

std::string metadataString(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto m = object.find("metadata");
  return m == object.end() ? std::string() : stringAt(*m, key);
}

Result<std::shared_ptr<KubeClient>> KubeClient::create(RestConfig config,
                                                       RestClientOptions options) {
  auto rest = RestClient::create(std::move(config), std::move(options));
  if (!rest) return Failure(rest.error());
  return std::make_shared<KubeClient>(std::move(*rest));
}

KubeClient::KubeClient(std::shared_ptr<RestClient> rest)
    : rest_(std::move(rest)), discovery_(rest_) {}

std::string KubeClient::describe() const {
  const RestConfig& c = rest_->config();
  return c.contextName.empty() ? c.server : fmt::format("{} (context {})", c.server, c.contextName);
}

Result<nlohmann::json> KubeClient::objectFrom(const HttpRequest& request,
                                              const HttpResponse& response) const {
  return parseJson(response.body,
                   fmt::format("the response to {} {}", request.method, request.path));
}

std::string KubeClient::namespaceOf(const ApiResource& resource,
                                    const nlohmann::json& object) const {
  if (!resource.namespaced) return {};
  std::string ns = metadataString(object, "namespace");
  return ns.empty() ? defaultNamespace() : ns;
}

Result<nlohmann::json> KubeClient::get(const ApiResource& resource, std::string_view ns,
                                       std::string_view name, std::stop_token stop) {
  HttpRequest req{.method = "GET", .path = resource.objectPath(ns, name)};
  auto response = rest_->call(req, stop);
  if (!response) return Failure(response.error());
  auto object = objectFrom(req, *response);
  if (object) setTypeMeta(*object, resource);
  return object;
}

Result<ObjectList> KubeClient::list(const ApiResource& resource, const ListOptions& options,
                                    std::stop_token stop) {
  ObjectList out;
  std::string cont;
  int64_t pageSize = options.pageSize;
  for (;;) {
    HttpRequest req =
        collectionGet(resource, options.namespace_, options.labelSelector, options.fieldSelector);
    if (pageSize > 0) req.query.emplace_back("limit", std::to_string(pageSize));
    if (!cont.empty()) req.query.emplace_back("continue", cont);
    auto response = rest_->send(req, stop);
    if (!response) return Failure(response.error());
    if (response->status == 410 && !cont.empty()) {
      // The snapshot behind the continue token was compacted: start over in one request.
      out = {};
      cont.clear();
      pageSize = 0;
      continue;
    }
    if (response->status >= 400) return Failure(rest_->errorFor(req, *response));
    auto doc = objectFrom(req, *response);
    if (!doc) return Failure(doc.error());
    if (!doc->is_object())
      return fail(ErrorCode::InvalidInput,
                  fmt::format("GET {}: the response is not a list", req.path));
    auto meta = doc->find("metadata");
    if (out.resourceVersion.empty() && meta != doc->end())
      out.resourceVersion = stringAt(*meta, "resourceVersion");
    if (auto items = doc->find("items"); items != doc->end() && items->is_array()) {
      out.items.reserve(out.items.size() + items->size());
      for (auto& item : *items) {
        setTypeMeta(item, resource);
        out.items.push_back(std::move(item));
      }
    }
    cont = meta != doc->end() ? stringAt(*meta, "continue") : std::string();
    if (cont.empty()) return out;
  }
}

Result<nlohmann::json> KubeClient::create(const ApiResource& resource, const nlohmann::json& object,
                                          bool dryRun) {
  HttpRequest req{.method = "POST",
                  .path = resource.collectionPath(namespaceOf(resource, object)),
                  .body = object.dump(),
                  .contentType = "application/json"};
  // kubectl's convention ("kubectl-create"): a later apply by "meshctl" is another manager.
  req.query.emplace_back("fieldManager", "meshctl-create");
  if (dryRun) req.query.emplace_back("dryRun", "All");
  auto response = rest_->call(req);
  if (!response) return Failure(response.error());
  return objectFrom(req, *response);
}

Result<nlohmann::json> KubeClient::apply(const ApiResource& resource, const nlohmann::json& object,
                                         const ApplyOptions& options) {
  std::string name = metadataString(object, "name");
  if (name.empty())
    return fail(ErrorCode::InvalidInput,
                fmt::format("cannot apply a {} without metadata.name", resource.kind));
  if (!object.contains("apiVersion") || !object.contains("kind"))
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("cannot apply {} \"{}\" without apiVersion and kind", resource.kind, name));
  // The body is JSON, which is YAML: the apply-patch content type takes either.
  HttpRequest req{.method = "PATCH",
                  .path = resource.objectPath(namespaceOf(resource, object), name),
                  .body = object.dump(),
                  .contentType = "application/apply-patch+yaml"};
  req.query.emplace_back("fieldManager", options.fieldManager);
  if (options.force) req.query.emplace_back("force", "true");
  if (options.dryRun) req.query.emplace_back("dryRun", "All");
  auto response = rest_->call(req);
  if (!response) return Failure(response.error());
  return objectFrom(req, *response);
}

Result<nlohmann::json> KubeClient::remove(const ApiResource& resource, std::string_view ns,
                                          std::string_view name, const DeleteOptions& options) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagationPolicy.empty()) body["propagationPolicy"] = options.propagationPolicy;
  if (options.gracePeriodSeconds) body["gracePeriodSeconds"] = *options.gracePeriodSeconds;
  if (options.resourceVersion) body["preconditions"]["resourceVersion"] = *options.resourceVersion;
  if (options.uid) body["preconditions"]["uid"] = *options.uid;
  if (options.dryRun) body["dryRun"] = nlohmann::json::array({"All"});
  HttpRequest req{.method = "DELETE",
                  .path = resource.objectPath(resource.namespaced ? ns : std::string_view(), name),
                  .body = body.dump(),
                  .contentType = "application/json"};
  auto response = rest_->call(req);
  if (!response) return Failure(response.error());
  return objectFrom(req, *response);
}

WatchEnd KubeClient::watchOnce(const ApiResource& resource, const WatchRequest& request,
                               const std::function<void(WatchEvent&&)>& onEvent,
                               std::stop_token stop) {
  HttpRequest req =
      collectionGet(resource, request.namespace_, request.labelSelector, request.fieldSelector);
  req.query.emplace_back("watch", "true");
  if (request.allowBookmarks) req.query.emplace_back("allowWatchBookmarks", "true");
  if (!request.resourceVersion.empty())
    req.query.emplace_back("resourceVersion", request.resourceVersion);
  req.query.emplace_back("timeoutSeconds", std::to_string(request.timeout.count()));
  // Our own deadline a little after the server's, for a server that forgets to end the stream.
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout +
                                                                      std::chrono::seconds(30));

  WatchEnd end;
  WatchDecoder decoder;
  RequestInfo info = describeRequest(req.method, req.path, true);
  bool ended = false;
  auto handle = [&](WatchEvent&& e) {
    if (ended) return;
    if (e.type == WatchEventType::Error) {
      ended = true;
      ApiStatus status;
      if (auto s = parseStatus(e.object.dump())) status = *s;
      if (status.code == 410 || status.reason == "Expired" || status.reason == "Gone")
        end.gone = true;
      else
        end.error = statusError(status, info, rest_->errorContext());
      return;
    }
    std::string rv = metadataString(e.object, "resourceVersion");
    if (e.type != WatchEventType::Bookmark) setTypeMeta(e.object, resource);
    ++end.events;
    onEvent(std::move(e));
    if (!rv.empty()) end.resourceVersion = rv;
  };
  auto response = rest_->stream(
      req,
      [&](std::string_view bytes) {
        if (auto r = decoder.feed(bytes, handle); !r) {
          end.error = r.error();
          return false;
        }
        return !ended;
      },
      stop);
  if (stop.stop_requested()) return end;
  if (!response) {
    if (!end.error && !end.gone) end.error = response.error();
    return end;
  }
  if (response->status == 410) {
    end.gone = true;
  } else if (response->status >= 400) {
    end.error = rest_->errorFor(req, *response);
  } else if (!ended && !end.error) {
    if (auto r = decoder.finish(handle); !r) end.error = r.error();
  }
  return end;
}

std::unique_ptr<Reflector> KubeClient::watch(const ApiResource& resource, ReflectorOptions options,
                                             ReflectorHandler handler) {
  return std::make_unique<Reflector>(*this, resource, std::move(options), std::move(handler));
}

}  // namespace mesh::backends::kube
