// meshd's own output through these evaluators: AuthorizationPolicy and RequestAuthentication
// YAML → controlplane/xds/security's builders → Envoy filters → compiled here → requests
// decided. Every matcher meshd emits must compile (a NACK otherwise) and mean what Istio says.
#include <doctest/doctest.h>

#include <map>
#include <variant>

#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/security/security_test_support.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "proxy/authz/jwt_authn.h"
#include "proxy/authz/jwt_test_support.h"
#include "proxy/authz/rbac_engine.h"
#include "proxy/authz/test_headers.h"

using namespace mesh::proxy::authz;
using mesh::proxy::authz::testing::TestKey;
using mesh::xds::security::testing::Mesh;
using mesh::xds::security::testing::proxyIn;

namespace {

constexpr int64_t kNow = 1'800'000'000;

using Headers = mesh::proxy::authz::testing::MapHeaders;

using Compiled = std::variant<std::shared_ptr<const JwtAuthn>, std::shared_ptr<const RbacFilter>>;

// The HTTP filters meshd puts before the router, compiled as the proxy compiles them.
std::vector<Compiled> httpChain(const Mesh& mesh) {
  std::vector<Compiled> out;
  for (const auto& f : mesh::xds::inboundHttpSecurityFilters(mesh.view())) {
    if (f.name() == "envoy.filters.http.jwt_authn") {
      envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication c;
      REQUIRE(f.typed_config().UnpackTo(&c));
      auto j = JwtAuthn::compile(c, f.name());
      REQUIRE_MESSAGE(j.has_value(), j.error().message);
      out.emplace_back(*j);
    } else {
      REQUIRE(f.name() == "envoy.filters.http.rbac");
      envoy::extensions::filters::http::rbac::v3::RBAC c;
      REQUIRE(f.typed_config().UnpackTo(&c));
      auto r = RbacFilter::compileHttp(c, f.name());
      REQUIRE_MESSAGE(r.has_value(), r.error().message);
      out.emplace_back(*r);
    }
  }
  return out;
}

std::vector<std::shared_ptr<const RbacFilter>> tcpChain(const Mesh& mesh) {
  std::vector<std::shared_ptr<const RbacFilter>> out;
  for (const auto& f : mesh::xds::inboundTcpSecurityFilters(mesh.view())) {
    REQUIRE(f.name() == "envoy.filters.network.rbac");
    envoy::extensions::filters::network::rbac::v3::RBAC c;
    REQUIRE(f.typed_config().UnpackTo(&c));
    auto r = RbacFilter::compileNetwork(c, f.name());
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    out.push_back(*r);
  }
  return out;
}

struct Call {
  std::string method = "GET";
  std::string path = "/";
  std::string host = "shop.example.com";
  std::string token;
  std::string peer;  // SPIFFE ID of the mTLS peer
  std::string sourceIp = "10.0.0.9";
  uint32_t port = 8080;
};

struct Outcome {
  unsigned status = 200;
  std::string text;
  DynamicMetadata metadata = DynamicMetadata::object();
};

// The chain in order, as security_filters.cpp runs it: jwt_authn, then each RBAC filter.
Outcome decide(const std::vector<Compiled>& chain, const Call& c) {
  Headers h;
  h.h[":method"] = c.method;
  h.h[":path"] = c.path;
  h.h[":authority"] = c.host;
  if (!c.token.empty()) h.h["authorization"] = "Bearer " + c.token;
  Outcome out;
  AuthzRequest r;
  r.peerPrincipal = c.peer;
  r.directRemoteAddress = c.sourceIp;
  r.remoteAddress = c.sourceIp;
  r.destinationAddress = "10.0.0.1";
  r.destinationPort = c.port;
  r.headers = &h;
  r.metadata = &out.metadata;
  for (const Compiled& f : chain) {
    if (const auto* jwt = std::get_if<std::shared_ptr<const JwtAuthn>>(&f)) {
      JwtResult j = (*jwt)->verify(JwtRequest{c.method, c.path, &h}, kNow);
      if (!j.allowed) return Outcome{j.httpStatus, j.message, {}};
      if (j.metadata.is_object()) out.metadata.update(j.metadata, true);
    } else {
      RbacDecision d = std::get<std::shared_ptr<const RbacFilter>>(f)->evaluate(r, &out.metadata);
      if (!d.allowed) return Outcome{403, d.matchedPolicy, {}};
    }
  }
  return out;
}

const TestKey& key() {
  static TestKey k = TestKey::rsa("k1");
  return k;
}

std::string token(const std::string& sub, nlohmann::json groups, int64_t exp = kNow + 3600) {
  return key().sign({{"iss", "https://issuer.example.com"}, {"sub", sub}, {"aud", "shop"}, {"exp", exp},
                     {"groups", std::move(groups)}},
                    "RS256");
}

std::string policies() {
  return R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  jwtRules:
  - issuer: "https://issuer.example.com"
    audiences: [shop]
    jwks: ')yaml" + testing::jwksOf({&key()}) + R"yaml('
    outputPayloadToHeader: x-jwt-payload
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin-anonymous, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {paths: ["/admin/*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/orders"]}}]
    to: [{operation: {methods: [GET], paths: ["/api/{*}/items"]}}]
  - from: [{source: {requestPrincipals: ["https://issuer.example.com/alice"]}}]
    when: [{key: "request.auth.claims[groups]", values: [admins]}]
  - from: [{source: {namespaces: ["front*"]}}]
    to: [{operation: {hosts: ["Shop.Example.com"], ports: ["8080"]}}]
  - from: [{source: {ipBlocks: ["192.168.0.0/16"]}}]
    to: [{operation: {notMethods: [DELETE]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: dry, namespace: shop, annotations: {istio.io/dry-run: "true"}}
spec:
  selector: {matchLabels: {app: payments}}
  action: DENY
  rules:
  - to: [{operation: {methods: [PUT]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  action: AUDIT
  rules:
  - to: [{operation: {paths: ["/audit"]}}]
)yaml";
}

}  // namespace

TEST_CASE("meshd: every filter meshd emits for these policies compiles, in Istio's order") {
  Mesh mesh(policies(), proxyIn("shop", {{"app", "payments"}}));
  auto filters = mesh::xds::inboundHttpSecurityFilters(mesh.view());
  std::vector<std::string> names;
  for (const auto& f : filters) names.push_back(f.name());
  CHECK(names == std::vector<std::string>{"envoy.filters.http.jwt_authn", "envoy.filters.http.rbac",
                                          "envoy.filters.http.rbac", "envoy.filters.http.rbac"});
  CHECK(httpChain(mesh).size() == 4);
  CHECK(tcpChain(mesh).size() == 3);
}

TEST_CASE("meshd: source principals, path templates, methods, hosts, ports and ipBlocks") {
  Mesh mesh(policies(), proxyIn("shop", {{"app", "payments"}}));
  auto chain = httpChain(mesh);
  Call orders;
  orders.peer = "spiffe://cluster.local/ns/shop/sa/orders";
  orders.path = "/api/v1/items?page=2";
  CHECK(decide(chain, orders).status == 200);
  Call c = orders;
  c.path = "/api/v1/x/items";  // {*} is one segment
  CHECK(decide(chain, c).status == 403);
  c = orders;
  c.method = "POST";
  CHECK(decide(chain, c).status == 403);
  c = orders;
  c.peer = "spiffe://cluster.local/ns/shop/sa/other";
  CHECK(decide(chain, c).status == 403);
  c = orders;
  c.peer.clear();  // plain text: no principal
  Outcome denied = decide(chain, c);
  CHECK(denied.status == 403);
  CHECK(denied.text.empty());  // an ALLOW filter with no match names no policy

  Call front;
  front.peer = "spiffe://cluster.local/ns/frontend/sa/web";
  front.host = "shop.example.COM";  // hosts match without case
  CHECK(decide(chain, front).status == 200);
  front.port = 9090;
  CHECK(decide(chain, front).status == 403);

  Call lan;
  lan.sourceIp = "192.168.7.7";
  CHECK(decide(chain, lan).status == 200);
  lan.method = "DELETE";
  CHECK(decide(chain, lan).status == 403);
}

TEST_CASE("meshd: requestPrincipals, claims, DENY on anonymous requests and JWT failures") {
  Mesh mesh(policies(), proxyIn("shop", {{"app", "payments"}}));
  auto chain = httpChain(mesh);
  Call alice;
  alice.token = token("alice", {"dev", "admins"});
  alice.path = "/admin/users";
  alice.sourceIp = "192.168.1.1";
  CHECK(decide(chain, alice).status == 200);
  Call c = alice;
  c.token = token("alice", "admins");  // a string claim matches too
  CHECK(decide(chain, c).status == 200);
  c.token = token("alice", {"dev"});
  c.sourceIp = "10.0.0.9";
  CHECK(decide(chain, c).status == 403);
  c.token = token("bob", {"admins"});
  CHECK(decide(chain, c).status == 403);

  Call anonymous;  // allowed by ipBlocks, but the DENY policy wants a request principal on /admin
  anonymous.sourceIp = "192.168.1.1";
  anonymous.path = "/admin/users";
  Outcome d = decide(chain, anonymous);
  CHECK(d.status == 403);
  CHECK(d.text == "ns[shop]-policy[deny-admin-anonymous]-rule[0]");
  anonymous.path = "/shop";
  CHECK(decide(chain, anonymous).status == 200);

  c = alice;
  c.token = token("alice", {"admins"}, kNow - 3600);
  d = decide(chain, c);
  CHECK(d.status == 401);
  CHECK(d.text == "Jwt is expired");
  TestKey other = TestKey::ec("k1", "P-256");
  c.token = other.sign({{"iss", "https://issuer.example.com"}, {"sub", "alice"}, {"aud", "shop"}}, "ES256");
  CHECK(decide(chain, c).text == "Jwks doesn't have key to match kid or alg from Jwt");
}

TEST_CASE("meshd: dry-run policies only publish their result; AUDIT never denies") {
  Mesh mesh(policies(), proxyIn("shop", {{"app", "payments"}}));
  auto chain = httpChain(mesh);
  Call put;
  put.method = "PUT";
  put.path = "/audit";
  put.sourceIp = "192.168.1.1";
  Outcome o = decide(chain, put);
  CHECK(o.status == 200);
  CHECK(o.metadata["envoy.filters.http.rbac"]["istio_dry_run_deny_shadow_engine_result"] == "denied");
  CHECK(o.metadata["envoy.filters.http.rbac"]["istio_dry_run_deny_shadow_effective_policy_id"] ==
        "ns[shop]-policy[dry]-rule[0]");
}

TEST_CASE("meshd: TCP policies as network RBAC") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/orders"]}}]
    to: [{operation: {ports: ["9000"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: quarantine, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  action: DENY
  rules:
  - from: [{source: {ipBlocks: ["10.9.0.0/16"]}}]
)yaml",
            proxyIn("shop", {{"app", "payments"}}));
  auto chain = tcpChain(mesh);
  REQUIRE(chain.size() == 2);
  auto allowed = [&](std::string_view peer, std::string_view ip, uint32_t port) {
    AuthzRequest r;
    r.peerPrincipal = peer;
    r.directRemoteAddress = ip;
    r.remoteAddress = ip;
    r.destinationAddress = "10.0.0.1";
    r.destinationPort = port;
    for (const auto& f : chain) {
      if (!f->evaluate(r, nullptr).allowed) return false;
    }
    return true;
  };
  CHECK(allowed("spiffe://cluster.local/ns/shop/sa/orders", "10.0.0.5", 9000));
  CHECK_FALSE(allowed("spiffe://cluster.local/ns/shop/sa/orders", "10.0.0.5", 9001));
  CHECK_FALSE(allowed("", "10.0.0.5", 9000));
  CHECK_FALSE(allowed("spiffe://cluster.local/ns/shop/sa/orders", "10.9.3.3", 9000));
}

TEST_CASE("meshd: a jwksUri whose keys meshd has not fetched gets keys that verify nothing; no token passes") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  jwtRules:
  - issuer: "https://issuer.example.com"
    jwksUri: "https://issuer.example.com/jwks.json"
)yaml",
            proxyIn("shop", {{"app", "payments"}}));
  auto chain = httpChain(mesh);
  REQUIRE(chain.size() == 1);
  Call c;
  CHECK(decide(chain, c).status == 200);
  c.token = token("alice", {"admins"});
  Outcome o = decide(chain, c);
  CHECK(o.status == 401);
  CHECK(o.text == "Jwks doesn't have key to match kid or alg from Jwt");
}
