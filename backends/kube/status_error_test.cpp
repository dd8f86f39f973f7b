// Status bodies as the API server sends them, turned into messages: the request's verb and
// resource, the missing RBAC rule, SSA conflicts, invalid fields, missing types.
#include "backends/kube/status_error.h"

#include <doctest/doctest.h>

namespace mesh::backends::kube {
namespace {

const ErrorContext kContext{"https://10.0.0.1:6443", "prod", "alice"};

TEST_CASE("status: requests are described as the authorizer sees them") {
  auto r =
      describeRequest("PATCH", "/apis/apps/v1/namespaces/x/deployments/web?fieldManager=meshctl");
  CHECK(r.resourceRequest);
  CHECK(r.verb == "patch");
  CHECK(r.group == "apps");
  CHECK(r.version == "v1");
  CHECK(r.resource == "deployments");
  CHECK(r.namespace_ == "x");
  CHECK(r.name == "web");
  CHECK(r.path == "/apis/apps/v1/namespaces/x/deployments/web");
  CHECK(r.resourceName() == "deployments.apps");

  CHECK(describeRequest("GET", "/api/v1/pods").verb == "list");
  CHECK(describeRequest("GET", "/api/v1/namespaces/x/pods", true).verb == "watch");
  CHECK(describeRequest("DELETE", "/api/v1/namespaces/x/pods").verb == "deletecollection");
  CHECK(describeRequest("POST", "/api/v1/namespaces/x/pods").verb == "create");
  auto log = describeRequest("GET", "/api/v1/namespaces/x/pods/p/log");
  CHECK(log.subresource == "log");
  CHECK(log.resourceName() == "pods/log");
  auto ns = describeRequest("GET", "/api/v1/namespaces/x");
  CHECK(ns.resource == "namespaces");
  CHECK(ns.name == "x");
  CHECK(ns.namespace_.empty());
  CHECK(describeRequest("PUT", "/api/v1/namespaces/x/finalize").subresource == "finalize");
  auto apis = describeRequest("GET", "/apis");
  CHECK_FALSE(apis.resourceRequest);
  CHECK(apis.verb == "get");
}

TEST_CASE("status: 403 names the verb, the resource and the RBAC rule that is missing") {
  std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"x\"",
    "reason":"Forbidden","details":{"name":"web","group":"apps","kind":"deployments"},"code":403})";
  Error e = statusError(
      403, body, describeRequest("PATCH", "/apis/apps/v1/namespaces/x/deployments/web"), kContext);
  CHECK(
      e.message ==
      "deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource \"deployments\" in "
      "API group "
      "\"apps\" in the namespace \"x\" — the RBAC rule missing is: apiGroups [\"apps\"], resources "
      "[\"deployments\"], verbs [\"patch\"]");
  CHECK(e.hint.find("a Role in namespace \"x\"") != std::string::npos);
  CHECK(e.hint.find("kubectl auth can-i patch deployments.apps -n x") != std::string::npos);

  Error core = statusError(403, "", describeRequest("GET", "/api/v1/secrets"), kContext);
  CHECK(core.message ==
        "forbidden: cannot list resource \"secrets\" in API group \"\" at the cluster scope — the "
        "RBAC rule missing "
        "is: apiGroups [\"\"], resources [\"secrets\"], verbs [\"list\"]");
  Error sub =
      statusError(403, "", describeRequest("GET", "/api/v1/namespaces/a/pods/p/log"), kContext);
  CHECK(sub.message.find("resources [\"pods/log\"], verbs [\"get\"]") != std::string::npos);
  Error nonResource = statusError(403, "", describeRequest("GET", "/apis"), kContext);
  CHECK(nonResource.message.find("nonResourceURLs [\"/apis\"], verbs [\"get\"]") !=
        std::string::npos);
}

TEST_CASE("status: an SSA conflict lists the fields and who manages them") {
  std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"Apply failed with 2 conflicts: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas",
    "reason":"Conflict","details":{"causes":[
      {"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using apps/v1","field":".spec.replicas"},
      {"reason":"FieldManagerConflict","message":"conflict with \"helm\" using apps/v1","field":".spec.template.spec.containers[name=\"app\"].image"}]},
    "code":409})";
  Error e = statusError(
      409, body, describeRequest("PATCH", "/apis/apps/v1/namespaces/x/deployments/web"), kContext);
  CHECK(e.code == ErrorCode::Conflict);
  CHECK(e.message ==
        "apply conflict on deployments.apps \"web\" in namespace \"x\": 2 fields managed by "
        "another field manager:\n"
        "  .spec.replicas (managed by \"kubectl-edit\")\n"
        "  .spec.template.spec.containers[name=\"app\"].image (managed by \"helm\")");
  CHECK(e.hint.find("force") != std::string::npos);

  Error exists = statusError(
      409,
      R"({"kind":"Status","reason":"AlreadyExists","message":"configmaps \"c\" already exists","code":409})",
      describeRequest("POST", "/api/v1/namespaces/x/configmaps"), kContext);
  CHECK(exists.code == ErrorCode::Conflict);
  CHECK(exists.message == "configmaps \"c\" already exists");
}

TEST_CASE("status: 422 lists each invalid field; 404 tells a missing object from a missing type") {
  std::string body = R"({"kind":"Status","reason":"Invalid","code":422,
    "message":"VirtualService.networking.istio.io \"r\" is invalid: ...",
    "details":{"name":"r","group":"networking.istio.io","kind":"VirtualService","causes":[
      {"reason":"FieldValueRequired","message":"Required value","field":"spec.hosts"},
      {"reason":"FieldValueInvalid","message":"Invalid value: \"x\": must be a duration","field":"spec.http[0].timeout"}]}})";
  Error e = statusError(
      422, body,
      describeRequest("PATCH", "/apis/networking.istio.io/v1/namespaces/d/virtualservices/r"),
      kContext);
  CHECK(e.code == ErrorCode::InvalidInput);
  CHECK(e.message ==
        "VirtualService \"r\" is invalid:\n  spec.hosts: Required value\n  spec.http[0].timeout: "
        "Invalid value: "
        "\"x\": must be a duration");

  Error object = statusError(
      404,
      R"({"kind":"Status","reason":"NotFound","code":404,"message":"configmaps \"c\" not found","details":{"name":"c","kind":"configmaps"}})",
      describeRequest("GET", "/api/v1/namespaces/x/configmaps/c"), kContext);
  CHECK(object.code == ErrorCode::NotFound);
  CHECK(object.message == "configmaps \"c\" not found");
  Error type = statusError(
      404,
      R"({"kind":"Status","reason":"NotFound","code":404,"message":"the server could not find the requested resource"})",
      describeRequest("GET", "/apis/networking.istio.io/v1/namespaces/x/virtualservices"),
      kContext);
  CHECK(type.message ==
        "the API server has no resource \"virtualservices\" in networking.istio.io/v1 (is its "
        "CustomResourceDefinition installed?)");
}

TEST_CASE("status: 401, 5xx, throttling, and bodies that are not a Status") {
  Error unauthorized = statusError(
      401, R"({"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"})",
      describeRequest("GET", "/api"), kContext);
  CHECK(unauthorized.message ==
        "unauthorized: the API server at https://10.0.0.1:6443 rejected the credentials of user "
        "\"alice\" (context "
        "\"prod\")");
  Error internal = statusError(
      500,
      R"({"kind":"Status","code":500,"reason":"InternalError","message":"Internal error occurred: etcd down"})",
      describeRequest("GET", "/api/v1/pods"), kContext);
  CHECK(internal.code == ErrorCode::Unavailable);
  CHECK(internal.message ==
        "GET /api/v1/pods failed on the API server (500 InternalError): Internal error occurred: "
        "etcd down");
  Error proxy = statusError(502, "<html>\n<body>Bad Gateway</body>\n</html>",
                            describeRequest("GET", "/api/v1/pods"), kContext);
  CHECK(proxy.message ==
        "GET /api/v1/pods failed on the API server (502): <html> <body>Bad Gateway</body> </html>");
  Error throttled = statusError(429, "", describeRequest("GET", "/api/v1/pods"), kContext);
  CHECK(throttled.message.find("throttling") != std::string::npos);
  Error gone = statusError(
      410,
      R"j({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 5 (90)"})j",
      describeRequest("GET", "/api/v1/pods", true), kContext);
  CHECK(gone.message ==
        "the API server no longer has the history asked for (410 Gone): too old resource version: "
        "5 (90)");
  Error refused = connectionError(kContext, "connection refused");
  CHECK(refused.message == "cannot reach https://10.0.0.1:6443: connection refused");
  CHECK(refused.code == ErrorCode::Unavailable);
}

}  // namespace
}  // namespace mesh::backends::kube
