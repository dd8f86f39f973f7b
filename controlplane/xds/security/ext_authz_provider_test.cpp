#include "controlplane/xds/security/ext_authz_provider.h"

#include <fmt/format.h>

#include "controlplane/xds/security/security_test_support.h"
#include "envoy/type/v3/http_status.pb.h"

namespace mesh::xds::security {
namespace {

using envoy::extensions::filters::http::ext_authz::v3::ExtAuthz;
using testing::checkEqual;
using testing::Mesh;
using testing::proxyIn;
using testing::textProto;

constexpr std::string_view kServices = R"yaml(
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: authz}
spec:
  ports: [{name: grpc, port: 9000}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: opa, namespace: authz}
spec:
  hosts: [opa.example.com]
  ports: [{number: 8181, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: opa, namespace: other}
spec:
  hosts: [opa.example.com]
  ports: [{number: 8181, name: http, protocol: HTTP}]
  resolution: DNS
)yaml";

class Providers {
 public:
  explicit Providers(std::string_view providers) {
    auto parsed = model::parseMeshConfig("mesh.yaml", fmt::format("extensionProviders:\n{}", providers));
    REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : parsed.error().message));
    model::SnapshotOptions options;
    options.meshConfig = *parsed;
    mesh_ = std::make_unique<Mesh>(kServices, proxyIn("shop", {}), options);
  }
  Result<ExtAuthzService> resolve(std::string_view name) const { return resolveExtAuthzProvider(mesh_->view().snapshot, name); }
  ExtAuthz config(std::string_view name) const {
    auto service = resolve(name);
    REQUIRE_MESSAGE(service.has_value(), (service ? "" : service.error().message));
    return httpExtAuthzConfig(*service, "envoy.filters.http.rbac");
  }

 private:
  std::unique_ptr<Mesh> mesh_;
};

}  // namespace

TEST_CASE("ext_authz provider: envoyExtAuthzHttp with every field, as Istio's generateHTTPConfig") {
  Providers p(R"yaml(- name: opa
  envoyExtAuthzHttp:
    service: authz/opa.example.com
    port: 8181
    timeout: 1.5s
    failOpen: true
    statusOnError: "503"
    pathPrefix: /v1/check
    includeRequestHeadersInCheck: [Authorization, "x-user-*", "*-token"]
    includeAdditionalHeadersInCheck: {x-mesh: meshd, x-check: "1"}
    headersToUpstreamOnAllow: [x-user-id]
    headersToDownstreamOnDeny: [x-reason, "set-*"]
    includeRequestBodyInCheck: {maxRequestBytes: 1024, allowPartialMessage: true, packAsBytes: true}
)yaml");
  checkEqual(p.config("opa"), textProto<ExtAuthz>(R"pb(
    http_service {
      server_uri {
        uri: "http://opa.example.com"
        cluster: "outbound|8181||opa.example.com"
        timeout { seconds: 1 nanos: 500000000 }
      }
      path_prefix: "/v1/check"
      authorization_request {
        headers_to_add { key: "x-check" value: "1" }
        headers_to_add { key: "x-mesh" value: "meshd" }
      }
      authorization_response {
        allowed_upstream_headers { patterns { exact: "x-user-id" ignore_case: true } }
        allowed_client_headers {
          patterns { exact: "x-reason" ignore_case: true }
          patterns { prefix: "set-" ignore_case: true }
        }
      }
    }
    failure_mode_allow: true
    with_request_body { max_request_bytes: 1024 allow_partial_message: true pack_as_bytes: true }
    status_on_error { code: ServiceUnavailable }
    transport_api_version: V3
    filter_enabled_metadata {
      filter: "envoy.filters.http.rbac"
      path { key: "istio_ext_authz_shadow_effective_policy_id" }
      value { string_match { prefix: "istio-ext-authz" } }
    }
    allowed_headers {
      patterns { exact: "Authorization" ignore_case: true }
      patterns { prefix: "x-user-" ignore_case: true }
      patterns { suffix: "-token" ignore_case: true }
    })pb"));
}

TEST_CASE("ext_authz provider: envoyExtAuthzGrpc with the host as authority and its own timeout") {
  Providers p(R"yaml(- name: grpc
  envoyExtAuthzGrpc: {service: authz.authz.svc.cluster.local, port: 9000, timeout: 2s, failOpen: true,
                      statusOnError: "403", includeRequestBodyInCheck: {maxRequestBytes: 10}}
)yaml");
  checkEqual(p.config("grpc"), textProto<ExtAuthz>(R"pb(
    grpc_service {
      envoy_grpc { cluster_name: "outbound|9000||authz.authz.svc.cluster.local" authority: "authz.authz.svc.cluster.local" }
      timeout { seconds: 2 }
    }
    failure_mode_allow: true
    with_request_body { max_request_bytes: 10 }
    status_on_error { code: Forbidden }
    transport_api_version: V3
    filter_enabled_metadata {
      filter: "envoy.filters.http.rbac"
      path { key: "istio_ext_authz_shadow_effective_policy_id" }
      value { string_match { prefix: "istio-ext-authz" } }
    })pb"));
}

TEST_CASE("ext_authz provider: the service lookup follows Istio's LookupCluster") {
  Providers p(R"yaml(- name: ambiguous
  envoyExtAuthzHttp: {service: opa.example.com, port: 8181}
- name: other-ns
  envoyExtAuthzHttp: {service: other/opa.example.com, port: 8181}
- name: wrong-ns
  envoyExtAuthzHttp: {service: shop/opa.example.com, port: 8181}
- name: missing
  envoyExtAuthzGrpc: {service: nowhere.example.com, port: 1}
- name: tracing
  zipkin: {service: zipkin.example.com, port: 9411}
)yaml");
  auto ambiguous = p.resolve("ambiguous");
  REQUIRE_FALSE(ambiguous.has_value());
  CHECK(ambiguous.error().message.find("several namespaces: write <namespace>/opa.example.com") != std::string::npos);
  auto other = p.resolve("other-ns");
  REQUIRE(other.has_value());
  CHECK(other->cluster == "outbound|8181||opa.example.com");
  CHECK(other->http);
  CHECK_FALSE(p.resolve("wrong-ns").has_value());
  CHECK(p.resolve("missing").error().message.find("could not find service nowhere.example.com") != std::string::npos);
  CHECK(p.resolve("tracing").error().message.find("is not envoyExtAuthzHttp or envoyExtAuthzGrpc") != std::string::npos);
  auto unknown = p.resolve("nope");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message ==
        "extension provider \"nope\" is not in the MeshConfig (mesh.yaml: [ambiguous, other-ns, wrong-ns, missing, tracing])");
}

TEST_CASE("ext_authz provider: statusOnError accepts exactly the codes of Envoy's StatusCode enum") {
  for (uint32_t code = 1; code < 1000; ++code) {  // 0 is the enum's Empty, which Envoy refuses
    CAPTURE(code);
    CHECK(model::isEnvoyStatusCode(code) == envoy::type::v3::StatusCode_IsValid(static_cast<int>(code)));
  }
}

}  // namespace mesh::xds::security
