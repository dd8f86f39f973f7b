// The RBAC engine against configs shaped as meshd's rbac_builder emits them (and_rules of
// header / url_path / port permissions, and_ids of authenticated / metadata principals) plus
// Envoy's other matchers, ALLOW / DENY / LOG, policy order, network checks and compile errors.
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include <map>

#include "proxy/authz/rbac_engine.h"
#include "proxy/authz/test_headers.h"

using namespace mesh::proxy::authz;

namespace {

using Headers = mesh::proxy::authz::testing::MapHeaders;

envoy::config::rbac::v3::RBAC rbac(const std::string& text) {
  envoy::config::rbac::v3::RBAC r;
  REQUIRE_MESSAGE(google::protobuf::TextFormat::ParseFromString(text, &r), text);
  return r;
}

RbacEngine engine(const std::string& text) {
  auto e = RbacEngine::compile(rbac(text), "rules");
  REQUIRE_MESSAGE(e.has_value(), e.error().message);
  return *e;
}

std::string compileError(const std::string& text) {
  auto e = RbacEngine::compile(rbac(text), "rules");
  REQUIRE_FALSE(e.has_value());
  return e.error().message;
}

struct Req {
  Headers headers{{":method", "GET"}, {":path", "/api/items?x=1"}, {":authority", "Shop.Example.com"}};
  nlohmann::json metadata = nlohmann::json::object();
  AuthzRequest r;
  Req() {
    r.peerPrincipal = "spiffe://cluster.local/ns/orders/sa/checkout";
    r.directRemoteAddress = "10.1.2.3";
    r.remoteAddress = "203.0.113.9";
    r.destinationAddress = "10.0.0.1";
    r.destinationPort = 8080;
    r.serverName = "outbound_.8080_._.shop.default.svc.cluster.local";
    r.headers = &headers;
    r.metadata = &metadata;
  }
};

}  // namespace

TEST_CASE("rbac: ALLOW allows only what a policy matches and names the first match in name order") {
  auto e = engine(R"(
    action: ALLOW
    policies { key: "ns[shop]-policy[b]-rule[0]" value {
      permissions { and_rules { rules { header { name: ":method" string_match { exact: "GET" } } } } }
      principals { and_ids { ids { any: true } } } } }
    policies { key: "ns[shop]-policy[a]-rule[0]" value {
      permissions { and_rules { rules { url_path { path { prefix: "/api/" } } } } }
      principals { and_ids { ids { any: true } } } } })");
  Req q;
  auto d = e.evaluate(q.r);
  CHECK(d.allowed);
  CHECK(d.matchedPolicy == "ns[shop]-policy[a]-rule[0]");
  Req post;
  post.headers = Headers{{":method", "POST"}, {":path", "/other"}};
  d = e.evaluate(post.r);
  CHECK_FALSE(d.allowed);
  CHECK(d.matchedPolicy.empty());
}

TEST_CASE("rbac: DENY denies on a match, LOG never denies, an empty policy set allows or denies everything") {
  const char* policy = R"(
    policies { key: "deny-admin" value {
      permissions { and_rules { rules { url_path { path { prefix: "/admin" } } } } }
      principals { and_ids { ids { any: true } } } } })";
  auto deny = engine(std::string("action: DENY ") + policy);
  auto log = engine(std::string("action: LOG ") + policy);
  Req admin;
  admin.headers = Headers{{":method", "GET"}, {":path", "/admin/users"}};
  CHECK_FALSE(deny.evaluate(admin.r).allowed);
  CHECK(deny.evaluate(admin.r).matchedPolicy == "deny-admin");
  CHECK(log.evaluate(admin.r).allowed);
  Req q;
  CHECK(deny.evaluate(q.r).allowed);
  CHECK_FALSE(engine("action: ALLOW").evaluate(q.r).allowed);
  CHECK(engine("action: DENY").evaluate(q.r).allowed);
}

TEST_CASE("rbac: meshd's matchNever policy (NOT any, NOT any) matches nothing") {
  auto e = engine(R"(action: ALLOW policies { key: "ns[a]-policy[empty]-rule[0]" value {
      permissions { not_rule { any: true } } principals { not_id { any: true } } } })");
  Req q;
  CHECK_FALSE(e.evaluate(q.r).allowed);
}

TEST_CASE("rbac: principals — SPIFFE principal, namespace and service account regexes, IPs, not_id") {
  Req q;
  auto allowIf = [&](const std::string& principal) {
    return engine("action: ALLOW policies { key: \"p\" value { permissions { any: true } principals { " + principal +
                  " } } }")
        .evaluate(q.r)
        .allowed;
  };
  CHECK(allowIf(R"(authenticated { principal_name { exact: "spiffe://cluster.local/ns/orders/sa/checkout" } })"));
  CHECK_FALSE(allowIf(R"(authenticated { principal_name { exact: "spiffe://cluster.local/ns/orders/sa/other" } })"));
  CHECK(allowIf(R"(authenticated { principal_name { safe_regex { regex: ".*/ns/orders/.*" } } })"));
  CHECK(allowIf(R"(authenticated { principal_name { safe_regex { regex: "spiffe://.+/ns/orders/(.+/|)sa/checkout(/.+)?" } } })"));
  CHECK(allowIf(R"(authenticated { })"));
  CHECK(allowIf(R"(direct_remote_ip { address_prefix: "10.1.0.0" prefix_len { value: 16 } })"));
  CHECK_FALSE(allowIf(R"(direct_remote_ip { address_prefix: "10.2.0.0" prefix_len { value: 16 } })"));
  CHECK(allowIf(R"(remote_ip { address_prefix: "203.0.113.9" prefix_len { value: 32 } })"));
  CHECK(allowIf(R"(source_ip { address_prefix: "10.1.2.3" prefix_len { value: 32 } })"));
  CHECK(allowIf(R"(not_id { authenticated { principal_name { prefix: "spiffe://cluster.local/ns/kube-system/" } } })"));
  CHECK(allowIf(R"(header { name: "x-user" present_match: false })"));
  CHECK(allowIf(R"(or_ids { ids { header { name: "x-user" present_match: true } } ids { url_path { path { exact: "/api/items" } } } })"));

  q.r.peerPrincipal = "";  // no mTLS: no authenticated principal at all
  CHECK_FALSE(allowIf(R"(authenticated { })"));
  CHECK_FALSE(allowIf(R"(authenticated { principal_name { safe_regex { regex: ".*" } } })"));
  CHECK(allowIf(R"(not_id { authenticated { principal_name { safe_regex { regex: ".*/ns/orders/.*" } } } })"));
}

TEST_CASE("rbac: permissions — hosts ignore case, methods, paths without query, ports, IPs, SNI") {
  Req q;
  auto allowIf = [&](const std::string& permission) {
    return engine("action: ALLOW policies { key: \"p\" value { permissions { " + permission +
                  " } principals { any: true } } }")
        .evaluate(q.r)
        .allowed;
  };
  CHECK(allowIf(R"(header { name: ":authority" string_match { exact: "shop.example.com" ignore_case: true } })"));
  CHECK_FALSE(allowIf(R"(header { name: ":authority" string_match { exact: "shop.example.com" } })"));
  CHECK(allowIf(R"(header { name: ":authority" string_match { suffix: ".EXAMPLE.com" ignore_case: true } })"));
  CHECK(allowIf(R"(header { name: ":method" string_match { exact: "GET" } })"));
  CHECK(allowIf(R"(header { name: ":path" string_match { contains: "x=1" } })"));
  CHECK(allowIf(R"(url_path { path { exact: "/api/items" } })"));
  CHECK_FALSE(allowIf(R"(url_path { path { exact: "/api/items?x=1" } })"));
  CHECK(allowIf(R"(url_path { path { safe_regex { regex: "/api/[a-zA-Z0-9-._~%!$&'()+,;:@=]+" } } })"));
  CHECK(allowIf(R"(destination_port: 8080)"));
  CHECK_FALSE(allowIf(R"(destination_port: 9090)"));
  CHECK(allowIf(R"(destination_port_range { start: 8000 end: 8081 })"));
  CHECK_FALSE(allowIf(R"(destination_port_range { start: 8000 end: 8080 })"));
  CHECK(allowIf(R"(destination_ip { address_prefix: "10.0.0.0" prefix_len { value: 8 } })"));
  CHECK(allowIf(R"(requested_server_name { suffix: ".svc.cluster.local" })"));
  CHECK(allowIf(R"(not_rule { header { name: ":method" string_match { exact: "DELETE" } } })"));
  CHECK_FALSE(allowIf(R"(header { name: "x-missing" string_match { exact: "" } invert_match: true })"));
}

TEST_CASE("rbac: header matchers — presence, absence, invert, range, missing headers") {
  Req q;
  q.headers = Headers{{":method", "GET"}, {":path", "/"}, {"x-count", "42"}, {"x-env", "prod"}};
  auto hit = [&](const std::string& header) {
    return engine("action: ALLOW policies { key: \"p\" value { permissions { header { " + header +
                  " } } principals { any: true } } }")
        .evaluate(q.r)
        .allowed;
  };
  CHECK(hit(R"(name: "x-env" present_match: true)"));
  CHECK(hit(R"(name: "X-Env")"));  // no specifier: presence
  CHECK(hit(R"(name: "x-none" present_match: false)"));
  CHECK_FALSE(hit(R"(name: "x-env" present_match: true invert_match: true)"));
  CHECK(hit(R"(name: "x-count" range_match { start: 40 end: 43 })"));
  CHECK_FALSE(hit(R"(name: "x-count" range_match { start: 43 end: 50 })"));
  CHECK_FALSE(hit(R"(name: "x-env" range_match { start: 0 end: 100 })"));
  CHECK(hit(R"(name: "x-env" string_match { exact: "dev" } invert_match: true)"));
  // A missing header fails a value match, inverted or not, unless it counts as empty.
  CHECK_FALSE(hit(R"(name: "x-none" string_match { exact: "dev" } invert_match: true)"));
  CHECK(hit(R"(name: "x-none" string_match { exact: "" } treat_missing_header_as_empty: true)"));
  CHECK(hit(R"(name: "x-env" safe_regex_match { regex: "pr.d" })"));
  CHECK_FALSE(hit(R"(name: "x-env" safe_regex_match { regex: "pr" })"));  // full match only
  CHECK(hit(R"(name: "x-env" prefix_match: "pr")"));
}

TEST_CASE("rbac: requestPrincipals and claims read jwt_authn's payload metadata as meshd shapes them") {
  // "https://issuer.example.com/alice" → and_ids of iss and sub; a groups claim as string or list.
  auto e = engine(R"(
    action: ALLOW
    policies { key: "ns[shop]-policy[jwt]-rule[0]" value {
      permissions { and_rules { rules { any: true } } }
      principals { and_ids {
        ids { and_ids {
          ids { metadata { filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "iss" }
                value { string_match { exact: "https://issuer.example.com" } } } }
          ids { metadata { filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "sub" }
                value { string_match { exact: "alice" } } } } } }
        ids { metadata { filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "groups" }
              value { or_match {
                value_matchers { list_match { one_of { or_match { value_matchers { string_match { exact: "admins" } } } } } }
                value_matchers { or_match { value_matchers { string_match { exact: "admins" } } } } } } } } } } } })");
  Req q;
  CHECK_FALSE(e.evaluate(q.r).allowed);  // no token verified: no metadata
  q.metadata = {{"envoy.filters.http.jwt_authn",
                 {{"payload", {{"iss", "https://issuer.example.com"}, {"sub", "alice"}, {"groups", {"dev", "admins"}}}}}}};
  CHECK(e.evaluate(q.r).allowed);
  q.metadata["envoy.filters.http.jwt_authn"]["payload"]["groups"] = "admins";
  CHECK(e.evaluate(q.r).allowed);
  q.metadata["envoy.filters.http.jwt_authn"]["payload"]["sub"] = "bob";
  CHECK_FALSE(e.evaluate(q.r).allowed);
}

TEST_CASE("rbac: value matchers — numbers, bools, null, presence, invert") {
  Req q;
  q.metadata = {{"f", {{"n", 5}, {"b", true}, {"z", nullptr}, {"s", "x"}}}};
  auto hit = [&](const std::string& m) {
    return engine("action: ALLOW policies { key: \"p\" value { permissions { any: true } principals { metadata { filter: \"f\" " +
                  m + " } } } }")
        .evaluate(q.r)
        .allowed;
  };
  CHECK(hit(R"(path { key: "n" } value { double_match { exact: 5 } })"));
  CHECK(hit(R"(path { key: "n" } value { double_match { range { start: 1 end: 6 } } })"));
  CHECK_FALSE(hit(R"(path { key: "n" } value { double_match { range { start: 6 end: 9 } } })"));
  CHECK(hit(R"(path { key: "b" } value { bool_match: true })"));
  CHECK(hit(R"(path { key: "z" } value { null_match { } })"));
  CHECK(hit(R"(path { key: "s" } value { present_match: true })"));
  CHECK_FALSE(hit(R"(path { key: "missing" } value { present_match: true })"));
  CHECK(hit(R"(path { key: "missing" } value { present_match: true } invert: true)"));
}

TEST_CASE("rbac: a network check never matches request attributes") {
  Req q;
  q.r.headers = nullptr;
  auto deny = engine(R"(action: DENY policies { key: "p" value {
      permissions { header { name: ":method" string_match { exact: "GET" } } } principals { any: true } } })");
  CHECK(deny.evaluate(q.r).allowed);
  auto allow = engine(R"(action: ALLOW policies { key: "p" value {
      permissions { destination_port: 8080 } principals { authenticated { principal_name { prefix: "spiffe://cluster.local/ns/orders/" } } } } })");
  CHECK(allow.evaluate(q.r).allowed);
  q.r.destinationPort = 9000;
  CHECK_FALSE(allow.evaluate(q.r).allowed);
}

TEST_CASE("rbac: unsupported matchers are compile errors naming the field") {
  CHECK(compileError(R"(policies { key: "p" value { permissions { uri_template { } } principals { any: true } } })")
            .find("rules.policies[p].permissions[0].uri_template") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { any: true } principals { filter_state { key: "k" } } } })")
            .find("principals[0].filter_state") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { any: true } principals { any: true } condition { } } })")
            .find("condition") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { url_path { path { safe_regex { regex: "(" } } } } principals { any: true } } })")
            .find("bad regex") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { url_path { path { safe_regex { regex: "[a-z]{600}" } } } } principals { any: true } } })")
            .find("url_path.path.safe_regex: regex program size") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { header { name: "x" string_match { custom { name: "c" } } } } principals { any: true } } })")
            .find("custom") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { destination_ip { address_prefix: "not-an-ip" } } principals { any: true } } })")
            .find("destination_ip.address_prefix") != std::string::npos);
  CHECK(compileError(R"(policies { key: "p" value { permissions { } principals { any: true } } })")
            .find("Permission names no rule") != std::string::npos);
}

TEST_CASE("rbac filter: shadow rules publish their result; no rules allows") {
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(R"(
    shadow_rules { action: DENY policies { key: "dry" value { permissions { any: true } principals { any: true } } } }
    shadow_rules_stat_prefix: "istio_dry_run_deny_")", &config));
  auto f = RbacFilter::compileHttp(config, "rbac");
  REQUIRE(f.has_value());
  Req q;
  nlohmann::json meta = nlohmann::json::object();
  CHECK((*f)->evaluate(q.r, &meta).allowed);
  CHECK(meta["envoy.filters.http.rbac"]["istio_dry_run_deny_shadow_effective_policy_id"] == "dry");
  CHECK(meta["envoy.filters.http.rbac"]["istio_dry_run_deny_shadow_engine_result"] == "denied");

  envoy::extensions::filters::network::rbac::v3::RBAC net;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(R"(stat_prefix: "tcp." matcher { })", &net));
  auto bad = RbacFilter::compileNetwork(net, "rbac");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("rbac.matcher") != std::string::npos);
}
