#include "controlplane/model/mesh_config.h"

#include <doctest/doctest.h>

#include <string>

#include "core/loader.h"

namespace mesh::model {
namespace {

std::shared_ptr<const MeshConfig> parsed(std::string_view yaml) {
  auto c = parseMeshConfig("mesh.yaml", yaml);
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
  return *c;
}

std::string errorOf(std::string_view yaml) {
  auto c = parseMeshConfig("mesh.yaml", yaml);
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().code == ErrorCode::InvalidInput);
  return c.error().message;
}

}  // namespace

TEST_CASE("MeshConfig: an empty document is Istio's defaults") {
  auto c = parsed("");
  CHECK(c->rootNamespace == "istio-system");
  CHECK(c->trustDomain == "cluster.local");
  CHECK_FALSE(c->rootNamespaceSet);
  CHECK(c->extensionProviders.empty());
  CHECK(c->localityLbSetting == nullptr);
  CHECK(defaultMeshConfig()->provider("x") == nullptr);
}

TEST_CASE("MeshConfig: root namespace, trust domain, locality LB and both ext_authz providers") {
  auto c = parsed(R"yaml(
rootNamespace: mesh-root
trustDomain: example.org
defaultConfig: {discoveryAddress: meshd:15012}   # read by proxies, not meshd
localityLbSetting:
  enabled: true
  failover: [{from: us-east, to: us-west}]
extensionProviders:
- name: opa
  envoyExtAuthzHttp:
    service: opa.authz.svc.cluster.local
    port: "8181"
    timeout: 250ms
    failOpen: true
    statusOnError: "503"
    pathPrefix: /check
    includeRequestHeadersInCheck: [authorization, x-user-*]
    includeAdditionalHeadersInCheck: {x-z: "1", x-a: "2"}
    headersToUpstreamOnAllow: [x-user]
    headersToDownstreamOnDeny: ["*-reason"]
    includeRequestBodyInCheck: {maxRequestBytes: 4096, allowPartialMessage: true}
- name: grpc-authz
  envoyExtAuthzGrpc: {service: authz/authz.authz.svc.cluster.local, port: 9000}
- name: zipkin
  zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
)yaml");
  CHECK(c->rootNamespace == "mesh-root");
  CHECK(c->rootNamespaceSet);
  CHECK(c->trustDomain == "example.org");
  REQUIRE(c->localityLbSetting != nullptr);
  CHECK(c->localityLbSetting->get("failover")->items().size() == 1);
  REQUIRE(c->extensionProviders.size() == 3);
  const ExtensionProvider* opa = c->provider("opa");
  REQUIRE(opa);
  REQUIRE(opa->extAuthz);
  const ExtAuthzProvider& http = *opa->extAuthz;
  CHECK(http.http);
  CHECK(http.service == "opa.authz.svc.cluster.local");
  CHECK(http.port == 8181);
  CHECK(http.timeoutNanos == 250'000'000);
  CHECK(http.failOpen);
  CHECK(http.statusOnError == 503u);
  CHECK(http.pathPrefix == "/check");
  CHECK(http.includeRequestHeadersInCheck == std::vector<std::string>{"authorization", "x-user-*"});
  CHECK(http.includeAdditionalHeadersInCheck ==
        std::vector<std::pair<std::string, std::string>>{{"x-a", "2"}, {"x-z", "1"}});
  CHECK(http.headersToDownstreamOnDeny == std::vector<std::string>{"*-reason"});
  REQUIRE(http.includeRequestBodyInCheck);
  CHECK(http.includeRequestBodyInCheck->maxRequestBytes == 4096);
  CHECK(http.includeRequestBodyInCheck->allowPartialMessage);
  const ExtensionProvider* grpc = c->provider("grpc-authz");
  REQUIRE(grpc);
  REQUIRE(grpc->extAuthz);
  CHECK_FALSE(grpc->extAuthz->http);
  CHECK(grpc->extAuthz->service == "authz/authz.authz.svc.cluster.local");
  CHECK_FALSE(grpc->extAuthz->timeoutNanos);
  REQUIRE(c->provider("zipkin"));
  CHECK_FALSE(c->provider("zipkin")->extAuthz);
}

TEST_CASE("MeshConfig: the deprecated includeHeadersInCheck counts when includeRequestHeadersInCheck is unset") {
  auto c = parsed("extensionProviders:\n- name: a\n  envoyExtAuthzHttp: {service: a.b, port: 80, "
                  "includeHeadersInCheck: [cookie]}\n");
  CHECK(c->provider("a")->extAuthz->includeRequestHeadersInCheck == std::vector<std::string>{"cookie"});
}

TEST_CASE("MeshConfig: errors name file, line and field, as Istio's ValidateMeshConfig checks") {
  std::string e = errorOf(R"yaml(extensionProviders:
- name: a
  envoyExtAuthzGrpc: {service: "", port: 70000, statusOnError: "299"}
- name: a
  envoyExtAuthzHttp:
    service: x.y
    port: 80
    pathPrefix: check
    headersToUpstreamOnAllow: ["*"]
    timeout: soon
)yaml");
  INFO(e);
  CHECK(e.find("mesh.yaml:3:32: extensionProviders[0].envoyExtAuthzGrpc.service: service must not be empty") !=
        std::string::npos);
  CHECK(e.find("mesh.yaml:3:42: extensionProviders[0].envoyExtAuthzGrpc.port: port must be in the range [1, 65535], "
               "found: 70000") != std::string::npos);
  CHECK(e.find("extensionProviders[0].envoyExtAuthzGrpc.statusOnError: unsupported statusOnError \"299\"") !=
        std::string::npos);
  CHECK(e.find("mesh.yaml:4:9: extensionProviders[1].name: extension provider name must be unique, found duplicate: a") !=
        std::string::npos);
  CHECK(e.find("mesh.yaml:8:17: extensionProviders[1].envoyExtAuthzHttp.pathPrefix: pathPrefix must begin with `/`") !=
        std::string::npos);
  CHECK(e.find("mesh.yaml:9:32: extensionProviders[1].envoyExtAuthzHttp.headersToUpstreamOnAllow[0]: a single "
               "wildcard") != std::string::npos);
  CHECK(e.find("mesh.yaml:10:14: extensionProviders[1].envoyExtAuthzHttp.timeout: invalid duration \"soon\"") !=
        std::string::npos);
}

TEST_CASE("MeshConfig: wrong types and broken YAML are errors") {
  CHECK(errorOf("- a\n").find("mesh.yaml:1:1: a MeshConfig must be a map, not a list") != std::string::npos);
  CHECK(errorOf("rootNamespace: [a]\n").find("mesh.yaml:1:16: rootNamespace: must be a string, not a list") !=
        std::string::npos);
  CHECK(errorOf("extensionProviders: {a: 1}\n").find("extensionProviders: must be a list") != std::string::npos);
  CHECK(errorOf("localityLbSetting: {enabled: maybe}\n").find("localityLbSetting.enabled: must be true or false") !=
        std::string::npos);
  CHECK(errorOf("a: [\n").find("mesh.yaml:") != std::string::npos);
}

TEST_CASE("MeshConfig: the istio ConfigMap's mesh key, with lines of the ConfigMap's file") {
  auto loaded = core::loadBuffer("istio.yaml", R"yaml(apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    trustDomain: td.example
    extensionProviders:
    - name: bad
      envoyExtAuthzHttp: {service: a.b, port: 0}
)yaml",
                                 {});
  REQUIRE(loaded.resources.size() == 1);
  auto c = meshConfigFromConfigMap(loaded.resources.front());
  REQUIRE_FALSE(c.has_value());
  INFO(c.error().message);
  CHECK(c.error().message.find("istio.yaml:9:0: data.mesh: extensionProviders[0].envoyExtAuthzHttp.port: port must be "
                               "in the range") != std::string::npos);

  auto good = core::loadBuffer("istio.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\n"
                                             "data:\n  mesh: \"trustDomain: td.example\"\n", {});
  auto ok = meshConfigFromConfigMap(good.resources.front());
  REQUIRE(ok.has_value());
  CHECK((*ok)->trustDomain == "td.example");
  CHECK((*ok)->source == "istio.yaml (ConfigMap default/istio)");

  auto empty = core::loadBuffer("istio.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio}\n", {});
  auto defaults = meshConfigFromConfigMap(empty.resources.front());
  REQUIRE(defaults.has_value());
  CHECK((*defaults)->extensionProviders.empty());
}

}  // namespace mesh::model
