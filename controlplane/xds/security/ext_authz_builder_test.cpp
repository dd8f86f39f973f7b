#include "controlplane/xds/security/ext_authz_builder.h"

#include <fmt/format.h>

#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/security/security_test_support.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {
namespace {

using HttpRbac = envoy::extensions::filters::http::rbac::v3::RBAC;
using NetworkRbac = envoy::extensions::filters::network::rbac::v3::RBAC;
using NetworkExtAuthz = envoy::extensions::filters::network::ext_authz::v3::ExtAuthz;
using envoy::extensions::filters::http::ext_authz::v3::ExtAuthz;
using testing::checkEqual;
using testing::Mesh;
using testing::proxyIn;
using testing::textProto;
using testing::unpack;

constexpr std::string_view kServices = R"yaml(
apiVersion: v1
kind: Service
metadata: {name: authz, namespace: shop}
spec:
  selector: {app: authz}
  ports: [{name: grpc, port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: opa, namespace: shop}
spec:
  selector: {app: opa}
  ports: [{name: http, port: 8181}]
---
)yaml";

std::string customPolicy(std::string_view provider) {
  return fmt::format(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: ext, namespace: shop}}
spec:
  action: CUSTOM
  provider: {{name: "{}"}}
  rules:
  - to: [{{operation: {{paths: ["/admin/*"]}}}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: allow-all, namespace: shop}}
spec:
  rules: [{{}}]
)yaml",
                     provider);
}

// The providers the tests' policies name, as a MeshConfig declares them.
model::SnapshotOptions withProviders(std::string_view providersYaml = R"yaml(
extensionProviders:
- name: grpc-authz
  envoyExtAuthzGrpc: {service: authz.shop.svc.cluster.local, port: 9000}
- name: opa
  envoyExtAuthzHttp: {service: shop/opa.shop.svc.cluster.local, port: 8181}
- name: zipkin
  zipkin: {service: zipkin.shop.svc.cluster.local, port: 9411}
)yaml") {
  auto mesh = model::parseMeshConfig("mesh.yaml", providersYaml);
  REQUIRE_MESSAGE(mesh.has_value(), (mesh ? "" : mesh.error().message));
  model::SnapshotOptions options;
  options.meshConfig = *mesh;
  return options;
}

}  // namespace

TEST_CASE("CUSTOM: shadow RBAC tags requests, gRPC ext_authz runs for tagged ones, before ALLOW") {
  Mesh mesh(std::string(kServices) + customPolicy("grpc-authz"), proxyIn("shop", {{"app", "payments"}}),
            withProviders());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 3);
  CHECK(filters[0].name() == "envoy.filters.http.rbac");
  checkEqual(unpack<HttpRbac>(filters[0].typed_config()), textProto<HttpRbac>(R"pb(
    shadow_rules {
      action: DENY
      policies {
        key: "istio-ext-authz-ns[shop]-policy[ext]-rule[0]"
        value {
          permissions { and_rules { rules { or_rules { rules { url_path { path { prefix: "/admin/" } } } } } } }
          principals { and_ids { ids { any: true } } }
        }
      }
    }
    shadow_rules_stat_prefix: "istio_ext_authz_")pb"));
  CHECK(filters[1].name() == "envoy.filters.http.ext_authz");
  checkEqual(unpack<ExtAuthz>(filters[1].typed_config()), textProto<ExtAuthz>(R"pb(
    grpc_service {
      envoy_grpc {
        cluster_name: "outbound|9000||authz.shop.svc.cluster.local"
        authority: "authz.shop.svc.cluster.local"
      }
      timeout { seconds: 600 }
    }
    transport_api_version: V3
    filter_enabled_metadata {
      filter: "envoy.filters.http.rbac"
      path { key: "istio_ext_authz_shadow_effective_policy_id" }
      value { string_match { prefix: "istio-ext-authz" } }
    })pb"));
  // The ALLOW filter comes after the external authorizer.
  auto allow = unpack<HttpRbac>(filters[2].typed_config());
  CHECK(allow.rules().action() == RBAC::ALLOW);
  // TCP, as Istio for a gRPC provider: network RBAC shadow rules tag connections, the network
  // ext_authz checks tagged ones, then the ALLOW filter.
  auto tcp = inboundTcpSecurityFilters(mesh.view());
  REQUIRE(tcp.size() == 3);
  CHECK(tcp[0].name() == "envoy.filters.network.rbac");
  auto tag = unpack<NetworkRbac>(tcp[0].typed_config());
  CHECK(tag.stat_prefix() == "tcp.");
  CHECK(tag.shadow_rules_stat_prefix() == "istio_ext_authz_");
  CHECK_FALSE(tag.has_rules());
  REQUIRE(tag.shadow_rules().policies().contains("istio-ext-authz-ns[shop]-policy[ext]-rule[0]"));
  CHECK(tag.shadow_rules().action() == RBAC::DENY);
  CHECK(tcp[1].name() == "envoy.filters.network.ext_authz");
  checkEqual(unpack<NetworkExtAuthz>(tcp[1].typed_config()), textProto<NetworkExtAuthz>(R"pb(
    stat_prefix: "tcp."
    grpc_service {
      envoy_grpc {
        cluster_name: "outbound|9000||authz.shop.svc.cluster.local"
        authority: "authz.shop.svc.cluster.local"
      }
      timeout { seconds: 600 }
    }
    transport_api_version: V3
    filter_enabled_metadata {
      filter: "envoy.filters.network.rbac"
      path { key: "istio_ext_authz_shadow_effective_policy_id" }
      value { string_match { prefix: "istio-ext-authz" } }
    })pb"));
  auto tcpAllow = unpack<NetworkRbac>(tcp[2].typed_config());
  CHECK(tcpAllow.rules().action() == RBAC::ALLOW);
}

TEST_CASE("CUSTOM: an envoyExtAuthzHttp provider leaves TCP chains without ext_authz, as Istio") {
  Mesh mesh(std::string(kServices) + customPolicy("opa"), proxyIn("shop", {}), withProviders());
  for (const auto& f : inboundTcpSecurityFilters(mesh.view())) CHECK(f.name() != "envoy.filters.network.ext_authz");
}

TEST_CASE("CUSTOM: an envoyExtAuthzHttp provider gets the HTTP ext_authz client") {
  Mesh mesh(std::string(kServices) + customPolicy("opa"), proxyIn("shop", {}), withProviders());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 3);
  auto ext = unpack<ExtAuthz>(filters[1].typed_config());
  REQUIRE(ext.has_http_service());
  CHECK(ext.http_service().server_uri().cluster() == "outbound|8181||opa.shop.svc.cluster.local");
  CHECK(ext.http_service().server_uri().uri() == "http://opa.shop.svc.cluster.local");
}

TEST_CASE("CUSTOM: a provider the MeshConfig does not declare denies every request, on HTTP and TCP") {
  // The old host-name form is such an unknown provider now, as in Istio; so is a tracing provider.
  for (std::string_view name : {"nowhere", "authz.shop.svc.cluster.local", "zipkin"}) {
    CAPTURE(name);
    Mesh mesh(std::string(kServices) + customPolicy(name), proxyIn("shop", {}), withProviders());
    auto filters = inboundHttpSecurityFilters(mesh.view());
    REQUIRE(filters.size() == 2);
    checkEqual(unpack<HttpRbac>(filters[0].typed_config()), textProto<HttpRbac>(R"pb(
      rules {
        action: DENY
        policies {
          key: "default-deny-all-due-to-bad-CUSTOM-action"
          value { permissions { any: true } principals { any: true } }
        }
      })pb"));
    auto tcp = inboundTcpSecurityFilters(mesh.view());
    REQUIRE(tcp.size() == 2);
    auto bad = unpack<envoy::extensions::filters::network::rbac::v3::RBAC>(tcp[0].typed_config());
    CHECK(bad.rules().action() == RBAC::DENY);
    CHECK(bad.rules().policies().contains("default-deny-all-due-to-bad-CUSTOM-action"));
  }
}

}  // namespace mesh::xds::security
