#include "controlplane/xds/security/rbac_builder.h"

#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/security/security_test_support.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {
namespace {

using HttpRbac = envoy::extensions::filters::http::rbac::v3::RBAC;
using NetworkRbac = envoy::extensions::filters::network::rbac::v3::RBAC;
using testing::checkEqual;
using testing::Mesh;
using testing::proxyIn;
using testing::textProto;
using testing::unpack;

model::Proxy payments() { return proxyIn("shop", {{"app", "payments"}}); }

HttpRbac httpRbac(const HttpFilter& f) {
  CHECK(f.name() == "envoy.filters.http.rbac");
  return unpack<HttpRbac>(f.typed_config());
}

NetworkRbac networkRbac(const Filter& f) {
  CHECK(f.name() == "envoy.filters.network.rbac");
  return unpack<NetworkRbac>(f.typed_config());
}

}  // namespace

TEST_CASE("RBAC: no AuthorizationPolicy, no filter (allow all)") {
  Mesh mesh("", payments());
  CHECK(inboundHttpSecurityFilters(mesh.view()).empty());
  CHECK(inboundTcpSecurityFilters(mesh.view()).empty());
}

TEST_CASE("RBAC: deny-all (spec: {}) plus allow-orders: one ALLOW filter, exact policies") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: shop}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-orders, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/shop/sa/orders"]}
    to:
    - operation: {methods: [GET, POST], paths: ["/api/*"]}
)yaml",
            payments());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  checkEqual(httpRbac(filters[0]), textProto<HttpRbac>(R"pb(
    rules {
      action: ALLOW
      policies {
        key: "ns[shop]-policy[allow-orders]-rule[0]"
        value {
          permissions {
            and_rules {
              rules { or_rules {
                rules { header { name: ":method" string_match { exact: "GET" } } }
                rules { header { name: ":method" string_match { exact: "POST" } } }
              } }
              rules { or_rules { rules { url_path { path { prefix: "/api/" } } } } }
            }
          }
          principals {
            and_ids { ids { or_ids { ids { authenticated {
              principal_name { exact: "spiffe://cluster.local/ns/shop/sa/orders" }
            } } } } }
          }
        }
      }
      policies {
        key: "ns[shop]-policy[deny-all]-rule[0]"
        value {
          permissions { not_rule { any: true } }
          principals { not_id { any: true } }
        }
      }
    })pb"));

  // Another workload in the namespace gets only the allow-nothing policy: every request denied.
  model::SidecarScope scope;
  model::Proxy webProxy = proxyIn("shop", {{"app", "web"}});  // the view refers to it
  auto web = mesh.viewOf(webProxy, scope);
  auto webFilters = inboundHttpSecurityFilters(web);
  REQUIRE(webFilters.size() == 1);
  auto rbac = httpRbac(webFilters[0]);
  CHECK(rbac.rules().action() == RBAC::ALLOW);
  REQUIRE(rbac.rules().policies().size() == 1);
  CHECK(rbac.rules().policies().contains("ns[shop]-policy[deny-all]-rule[0]"));
}

TEST_CASE("RBAC: AUDIT, DENY, ALLOW order; ipBlocks, notIpBlocks and notPaths") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: shop}
spec:
  rules:
  - to: [{operation: {methods: [GET]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: block-lan, namespace: shop}
spec:
  action: DENY
  rules:
  - from:
    - source: {ipBlocks: ["10.0.0.0/8", "192.168.1.7"], notIpBlocks: ["10.1.0.0/16"]}
    to:
    - operation: {notPaths: ["/public/*", "/healthz"]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-deletes, namespace: istio-system}
spec:
  action: AUDIT
  rules:
  - to: [{operation: {methods: [DELETE]}}]
)yaml",
            payments());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 3);
  auto audit = httpRbac(filters[0]);
  auto deny = httpRbac(filters[1]);
  auto allow = httpRbac(filters[2]);
  CHECK(audit.rules().action() == RBAC::LOG);
  CHECK(audit.rules().policies().contains("ns[istio-system]-policy[audit-deletes]-rule[0]"));
  CHECK(allow.rules().action() == RBAC::ALLOW);
  checkEqual(deny, textProto<HttpRbac>(R"pb(
    rules {
      action: DENY
      policies {
        key: "ns[shop]-policy[block-lan]-rule[0]"
        value {
          permissions { and_rules { rules { not_rule { or_rules {
            rules { url_path { path { prefix: "/public/" } } }
            rules { url_path { path { exact: "/healthz" } } }
          } } } } }
          principals { and_ids {
            ids { or_ids {
              ids { direct_remote_ip { address_prefix: "10.0.0.0" prefix_len { value: 8 } } }
              ids { direct_remote_ip { address_prefix: "192.168.1.7" prefix_len { value: 32 } } }
            } }
            ids { not_id { or_ids {
              ids { direct_remote_ip { address_prefix: "10.1.0.0" prefix_len { value: 16 } } }
            } } }
          } }
        }
      }
    })pb"));
}

TEST_CASE("RBAC: when conditions on request headers, JWT claims and destination port") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: tenants, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  rules:
  - when:
    - key: request.headers[x-tenant]
      values: ["acme", "beta*"]
    - key: request.auth.claims[groups]
      values: ["admins"]
    - key: request.auth.claims[org][team]
      notValues: ["guests"]
    - key: destination.port
      values: ["8080"]
)yaml",
            payments());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  checkEqual(httpRbac(filters[0]), textProto<HttpRbac>(R"pb(
    rules {
      policies {
        key: "ns[shop]-policy[tenants]-rule[0]"
        value {
          permissions { and_rules { rules { or_rules { rules { destination_port: 8080 } } } } }
          principals { and_ids {
            ids { or_ids {
              ids { header { name: "x-tenant" string_match { exact: "acme" } } }
              ids { header { name: "x-tenant" string_match { prefix: "beta" } } }
            } }
            ids { metadata {
              filter: "envoy.filters.http.jwt_authn"
              path { key: "payload" } path { key: "groups" }
              value { or_match {
                value_matchers { list_match { one_of { or_match {
                  value_matchers { string_match { exact: "admins" } } } } } }
                value_matchers { or_match { value_matchers { string_match { exact: "admins" } } } }
              } }
            } }
            ids { not_id { metadata {
              filter: "envoy.filters.http.jwt_authn"
              path { key: "payload" } path { key: "org" } path { key: "team" }
              value { or_match {
                value_matchers { list_match { one_of { or_match {
                  value_matchers { string_match { exact: "guests" } } } } } }
                value_matchers { or_match { value_matchers { string_match { exact: "guests" } } } }
              } }
            } } }
          } }
        }
      }
    })pb"));
}

TEST_CASE("RBAC: request principals read jwt_authn's payload; principals use the mesh trust domain") {
  model::SnapshotOptions options;
  options.trustDomain = "example.org";
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: people, namespace: shop}
spec:
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/shop/sa/*"]
        requestPrincipals: ["https://issuer.example/alice"]
        namespaces: ["front*"]
    to:
    - operation: {hosts: ["*.shop.example"]}
)yaml",
            payments(), options);
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  checkEqual(httpRbac(filters[0]), textProto<HttpRbac>(R"pb(
    rules {
      policies {
        key: "ns[shop]-policy[people]-rule[0]"
        value {
          permissions { and_rules { rules { or_rules { rules { header {
            name: ":authority" string_match { suffix: ".shop.example" ignore_case: true }
          } } } } } }
          principals { and_ids {
            ids { or_ids { ids { authenticated { principal_name { prefix: "spiffe://example.org/ns/shop/sa/" } } } } }
            ids { and_ids {
              ids { metadata {
                filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "iss" }
                value { string_match { exact: "https://issuer.example" } }
              } }
              ids { metadata {
                filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "sub" }
                value { string_match { exact: "alice" } }
              } }
            } }
            ids { or_ids { ids { authenticated { principal_name {
              safe_regex { regex: ".*/ns/front.*/.*" }
            } } } } }
          } }
        }
      }
    })pb"));
}

TEST_CASE("RBAC on TCP: HTTP-only fields drop an ALLOW rule and are removed from a DENY rule") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mixed, namespace: shop}
spec:
  rules:
  - to: [{operation: {methods: [GET], ports: ["8080"]}}]
  - from: [{source: {namespaces: [shop]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-admin, namespace: shop}
spec:
  action: DENY
  rules:
  - from: [{source: {ipBlocks: ["10.0.0.0/8"]}}]
    to: [{operation: {paths: ["/admin/*"]}}]
)yaml",
            payments());
  auto tcp = inboundTcpSecurityFilters(mesh.view());
  REQUIRE(tcp.size() == 2);
  // DENY: the path condition is gone, so the rule denies all of 10/8 on this port (stricter).
  checkEqual(networkRbac(tcp[0]), textProto<NetworkRbac>(R"pb(
    stat_prefix: "tcp."
    rules {
      action: DENY
      policies {
        key: "ns[shop]-policy[no-admin]-rule[0]"
        value {
          permissions { and_rules { rules { any: true } } }
          principals { and_ids { ids { or_ids { ids {
            direct_remote_ip { address_prefix: "10.0.0.0" prefix_len { value: 8 } }
          } } } } }
        }
      }
    })pb"));
  // ALLOW: the rule with a method is dropped (it could only allow less); the other stays.
  checkEqual(networkRbac(tcp[1]), textProto<NetworkRbac>(R"pb(
    stat_prefix: "tcp."
    rules {
      action: ALLOW
      policies {
        key: "ns[shop]-policy[mixed]-rule[1]"
        value {
          permissions { and_rules { rules { any: true } } }
          principals { and_ids { ids { or_ids { ids { authenticated { principal_name {
            safe_regex { regex: ".*/ns/shop/.*" }
          } } } } } } }
        }
      }
    })pb"));

  // The HTTP chain keeps both ALLOW rules and the DENY rule's path.
  auto http = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(http.size() == 2);
  CHECK(httpRbac(http[1]).rules().policies().size() == 2);
  auto deny = httpRbac(http[0]).rules().policies().at("ns[shop]-policy[no-admin]-rule[0]");
  CHECK(deny.permissions(0).and_rules().rules(0).has_or_rules());
}

TEST_CASE("RBAC: dry-run policies become shadow rules") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: trial
  namespace: shop
  annotations: {istio.io/dry-run: "true"}
spec:
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE]}}]}]
)yaml",
            payments());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  auto rbac = httpRbac(filters[0]);
  CHECK_FALSE(rbac.has_rules());
  CHECK(rbac.shadow_rules().action() == RBAC::DENY);
  CHECK(rbac.shadow_rules_stat_prefix() == "istio_dry_run_deny_");
  CHECK(rbac.shadow_rules().policies().contains("ns[shop]-policy[trial]-rule[0]"));
}

TEST_CASE("RBAC: paths with templates, wildcards and source.ip / remote.ip conditions") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: paths, namespace: shop}
spec:
  rules:
  - to: [{operation: {paths: ["/v1/{*}/items/{**}", "*.json", "*"]}}]
    when:
    - key: source.ip
      notValues: ["10.9.9.9"]
    - key: remote.ip
      values: ["203.0.113.0/24"]
)yaml",
            payments());
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  checkEqual(httpRbac(filters[0]), textProto<HttpRbac>(R"pb(
    rules {
      policies {
        key: "ns[shop]-policy[paths]-rule[0]"
        value {
          permissions { and_rules { rules { or_rules {
            rules { url_path { path { safe_regex {
              regex: "/v1/[a-zA-Z0-9-._~%!$&'()+,;:@=]+/items/[a-zA-Z0-9-._~%!$&'()+,;:@=/]*" } } } }
            rules { url_path { path { suffix: ".json" } } }
            rules { url_path { path { safe_regex { regex: ".+" } } } }
          } } } }
          principals { and_ids {
            ids { not_id { or_ids { ids { direct_remote_ip { address_prefix: "10.9.9.9" prefix_len { value: 32 } } } } } }
            ids { or_ids { ids { remote_ip { address_prefix: "203.0.113.0" prefix_len { value: 24 } } } } }
          } }
        }
      }
    })pb"));
}

}  // namespace mesh::xds::security
