// Route matching, rewrites, header mutation and path normalisation against Envoy's rules.
#include <doctest/doctest.h>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/route_table.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy::dataplane;

namespace {

std::shared_ptr<const RouteConfig> table() {
  auto rc = testing::parseRoute(R"(
    name: "t"
    virtual_hosts { name: "exact" domains: ["api.local", "api.local:8080"]
      routes { match { path: "/exact" } direct_response { status: 200 } name: "exact-path" }
      routes { match { prefix: "/v2" headers { name: "x-user" string_match { prefix: "admin" } } } route { cluster: "admin" } name: "hdr" }
      routes { match { prefix: "/v2" headers { name: "x-block" present_match: true invert_match: true } } route { cluster: "v2" prefix_rewrite: "/" } name: "v2" }
      routes { match { safe_regex { regex: "/items/[0-9]+" } } route { cluster: "items" regex_rewrite { pattern { regex: "^/items/" } substitution: "/i/" } } name: "re" }
      routes { match { path_separated_prefix: "/sep" } route { cluster: "sep" } name: "sep" }
      routes { match { prefix: "/q" query_parameters { name: "debug" string_match { exact: "1" } } } route { cluster: "q" } name: "q" }
      routes { match { prefix: "/CI" case_sensitive { value: false } } route { cluster: "ci" } name: "ci" }
      routes { match { prefix: "/" } redirect { https_redirect: true } name: "redir" } }
    virtual_hosts { name: "suffix" domains: ["*.svc.local"] routes { match { prefix: "/" } route { cluster: "s" } } }
    virtual_hosts { name: "longer-suffix" domains: ["*.ns.svc.local"] routes { match { prefix: "/" } route { cluster: "ns" } } }
    virtual_hosts { name: "prefix" domains: ["www.*"] routes { match { prefix: "/" } route { cluster: "p" } } }
    virtual_hosts { name: "default" domains: ["*"] routes { match { prefix: "/only" } route { cluster: "d" } } })");
  auto compiled = compileRouteConfig(rc);
  REQUIRE(compiled.has_value());
  return *compiled;
}

RequestHead request(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  RequestHead r;
  r.method = "GET";
  r.path = std::move(path);
  r.authority = "api.local";
  for (auto& [k, v] : headers) r.headers.add(k, v);
  return r;
}

std::string routeName(const RouteConfig& t, const RequestHead& r) {
  const VirtualHost* vh = selectVirtualHost(t, r.authority, HttpConnectionManagerConfig::StripPort::None);
  if (vh == nullptr) return "<no vhost>";
  const Route* route = selectRoute(*vh, r, 0);
  return route ? route->name : "<no route>";
}

}  // namespace

TEST_CASE("virtual hosts: exact, longest wildcard suffix, prefix, default") {
  auto t = table();
  using SP = HttpConnectionManagerConfig::StripPort;
  CHECK(selectVirtualHost(*t, "API.local", SP::None)->name == "exact");
  CHECK(selectVirtualHost(*t, "api.local:8080", SP::None)->name == "exact");
  CHECK(selectVirtualHost(*t, "api.local:9090", SP::None)->name == "default");
  CHECK(selectVirtualHost(*t, "api.local:9090", SP::Any)->name == "exact");
  CHECK(selectVirtualHost(*t, "a.svc.local", SP::None)->name == "suffix");
  CHECK(selectVirtualHost(*t, "a.ns.svc.local", SP::None)->name == "longer-suffix");
  CHECK(selectVirtualHost(*t, "www.example.com", SP::None)->name == "prefix");
  CHECK(selectVirtualHost(*t, "other", SP::None)->name == "default");
}

TEST_CASE("virtual hosts: ignore_port_in_host_matching leaves the Host's port out, as Istio's gateways ask") {
  auto rc = testing::parseRoute(R"(
    name: "gw" ignore_port_in_host_matching: true
    virtual_hosts { name: "shop" domains: ["shop.example.com"] routes { match { prefix: "/" } route { cluster: "s" } } })");
  auto compiled = compileRouteConfig(rc);
  REQUIRE(compiled.has_value());
  using SP = HttpConnectionManagerConfig::StripPort;
  CHECK(selectVirtualHost(**compiled, "shop.example.com:8443", SP::None)->name == "shop");
  CHECK(selectVirtualHost(**compiled, "shop.example.com", SP::None)->name == "shop");
  CHECK(selectVirtualHost(**compiled, "other.example.com:8443", SP::None) == nullptr);
}

TEST_CASE("routes: first match wins over path, headers, query, case") {
  auto t = table();
  CHECK(routeName(*t, request("/exact")) == "exact-path");
  CHECK(routeName(*t, request("/exact?x=1")) == "exact-path");
  CHECK(routeName(*t, request("/exactly")) == "redir");
  CHECK(routeName(*t, request("/v2/a", {{"x-user", "admin-1"}})) == "hdr");
  CHECK(routeName(*t, request("/v2/a", {{"x-user", "bob"}})) == "v2");
  CHECK(routeName(*t, request("/v2/a", {{"x-block", ""}})) == "redir");
  CHECK(routeName(*t, request("/items/42")) == "re");
  CHECK(routeName(*t, request("/items/4x")) == "redir");
  CHECK(routeName(*t, request("/sep")) == "sep");
  CHECK(routeName(*t, request("/sep/x")) == "sep");
  CHECK(routeName(*t, request("/separate")) == "redir");
  CHECK(routeName(*t, request("/q?a=b&debug=1")) == "q");
  CHECK(routeName(*t, request("/q?debug=2")) == "redir");
  CHECK(routeName(*t, request("/ci/x")) == "ci");
  auto other = request("/nope");
  other.authority = "zzz";
  CHECK(routeName(*t, other) == "<no route>");
}

TEST_CASE("rewrites and redirects") {
  auto t = table();
  const VirtualHost& vh = t->virtualHosts[0];
  const Route& v2 = vh.routes[2];
  const auto& a = std::get<RouteAction>(v2.action);
  CHECK(rewritePath(v2.match, a.prefixRewrite, nullptr, "", "/v2/users?id=1") == "//users?id=1");
  const Route& re = vh.routes[3];
  const auto& ra = std::get<RouteAction>(re.action);
  CHECK(rewritePath(re.match, std::nullopt, ra.regexRewrite.get(), ra.regexSubstitution, "/items/7?x") == "/i/7?x");
  auto r = request("/somewhere?x=1");
  r.authority = "api.local:8080";
  CHECK(redirectLocation(std::get<RedirectAction>(vh.routes.back().action), vh.routes.back().match, r) ==
        "https://api.local/somewhere?x=1");
}

TEST_CASE("weighted cluster choice follows the weights") {
  RouteAction a;
  a.weightedClusters.resize(2);
  a.weightedClusters[0].name = "v1";
  a.weightedClusters[0].weight = 90;
  a.weightedClusters[1].name = "v2";
  a.weightedClusters[1].weight = 10;
  a.totalWeight = 100;
  HeaderMap h;
  int v1 = 0;
  for (uint64_t i = 0; i < 1000; ++i) v1 += chooseCluster(a, h, i).name == "v1";
  CHECK(v1 == 900);
  RouteAction byHeader;
  byHeader.clusterHeader = "x-cluster";
  h.add("x-cluster", "chosen");
  CHECK(chooseCluster(byHeader, h, 0).name == "chosen");
}

TEST_CASE("header mutation actions") {
  HeaderMap h;
  h.add("a", "1");
  h.add("b", "2");
  HeaderMutation m;
  m.remove = {"b"};
  m.add.push_back({"a", "x", HeaderToAdd::Action::Append});
  m.add.push_back({"c", "3", HeaderToAdd::Action::AddIfAbsent});
  m.add.push_back({"d", "4", HeaderToAdd::Action::OverwriteIfExists});
  applyHeaderMutation(h, m);
  CHECK(h.getJoined("a") == "1,x");
  CHECK_FALSE(h.has("b"));
  CHECK(h.get("c") == "3");
  CHECK_FALSE(h.has("d"));
}

TEST_CASE("path normalisation as Envoy's normalize_path and merge_slashes") {
  CHECK(normalizePath("/a/./b/../c", true, false) == "/a/c");
  CHECK(normalizePath("/a/%2E%2E/b", true, false) == "/b");
  CHECK(normalizePath("/../../x", true, false) == "/x");
  CHECK(normalizePath("/a/b/..", true, false) == "/a/");
  CHECK(normalizePath("/%7euser/%2f", true, false) == "/~user/%2F");
  CHECK(normalizePath("/a\\b", true, false) == "/a/b");
  CHECK(normalizePath("//a///b?q=//x", false, true) == "/a/b?q=//x");
  CHECK(normalizePath("/a/../b?x=/../y", true, true) == "/b?x=/../y");
  CHECK_FALSE(normalizePath("a/b", true, false).has_value());
  CHECK_FALSE(normalizePath("/a%zz", true, false).has_value());
  CHECK_FALSE(normalizePath("/a%2", true, false).has_value());
  CHECK(normalizePath("/a/./b", false, false) == "/a/./b");
}
