// Turns what the API server answers on failure (a metav1.Status body, or anything else a proxy
// in between sends) into an Error a person can act on: a 403 names the verb, resource and the
// RBAC rule that is missing, a 409 from server-side apply lists the contested fields and their
// managers, a 422 lists each invalid field. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::backends::kube {

// A request as the API server's authorizer sees it (k8s.io/apiserver RequestInfo).
struct RequestInfo {
  std::string method{};          // GET, PATCH, ...
  std::string path{};            // /apis/apps/v1/namespaces/x/deployments/web
  bool resourceRequest = false;  // false for discovery and other non-resource URLs
  std::string verb{};            // get list watch create update patch delete deletecollection
  std::string group{};           // "" for the core group
  std::string version{};
  std::string resource{};     // plural: deployments
  std::string subresource{};  // status, scale, log, ...
  std::string namespace_{};
  std::string name{};

  // "deployments.apps", "pods", "pods/log": kubectl's resource.group form.
  std::string resourceName() const;
};

// `watch` is the request's watch=true query parameter, which makes a GET a watch.
RequestInfo describeRequest(std::string_view method, std::string_view path, bool watch = false);

struct StatusCause {
  std::string type{};  // FieldValueInvalid, FieldManagerConflict, ...
  std::string message{};
  std::string field{};
};

// metav1.Status, the body of every API error.
struct ApiStatus {
  int code = 0;
  std::string reason{};  // NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired, ...
  std::string message{};
  std::string name{};   // details.name
  std::string group{};  // details.group
  std::string kind{};   // details.kind (the resource for Forbidden)
  std::vector<StatusCause> causes{};
};

// nullopt unless `body` is a JSON object of kind Status.
std::optional<ApiStatus> parseStatus(std::string_view body);

// Who was asking where, to say so in 401s and connection errors.
struct ErrorContext {
  std::string server{};
  std::string contextName{};
  std::string userName{};
};

// The Error for a response with HTTP status `httpStatus` (>= 400) and this body.
Error statusError(int httpStatus, std::string_view body, const RequestInfo& request,
                  const ErrorContext& context);
// The same for a Status that arrived as a watch ERROR event.
Error statusError(const ApiStatus& status, const RequestInfo& request, const ErrorContext& context);

// "cannot reach https://10.0.0.1:6443: connection refused", with a hint on what to check.
Error connectionError(const ErrorContext& context, std::string_view reason, std::string hint = {});

}  // namespace mesh::backends::kube
