// KubeClient against the test API server (tests/kube_apiserver), over TLS with throwaway
// certificates: each way to authenticate, paging, watch with compaction and relist, retries of
// injected faults, and the errors a person sees (403, SSA conflicts, connection refused).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>

#include "backends/kube/reflector.h"
#include "backends/kube/testing/test_api_server.h"

namespace mesh::backends::kube {
namespace {

using nlohmann::json;
using testing::TestApiServer;

ApiResource resolve(KubeClient& c, std::string group, std::string kind) {
  auto r = c.discovery().resolve({std::move(group), std::move(kind)});
  REQUIRE_MESSAGE(r, testing::why(r));
  return *r;
}

json configMap(std::string_view name, std::string_view value, std::string_view ns = "default") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"k", value}}}};
}

std::vector<std::string> names(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(metadataString(i, "name"));
  return out;
}

// Requests the server logged whose method, path and query contain every one of `parts`. The
// server logs a request after answering it, so the count is awaited until it stops growing.
size_t logged(TestApiServer& server, std::vector<std::string_view> parts) {
  auto count = [&] {
    size_t n = 0;
    for (const auto& entry : server.requests().value("requests", json::array())) {
      std::string line = entry.dump();
      if (std::all_of(parts.begin(), parts.end(),
                      [&](std::string_view p) { return line.find(p) != std::string::npos; }))
        ++n;
    }
    return n;
  };
  size_t last = count();
  for (int stable = 0; stable < 3;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    size_t now = count();
    stable = now == last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

// Records what a reflector reports; waits for bounded times.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;
  std::vector<std::vector<std::string>> lists;
  std::vector<std::string> errors;

  ReflectorHandler handler() {
    return {.onList =
                [this](ObjectList&& l) {
                  std::lock_guard lock(mu);
                  lists.push_back(names(l.items));
                  cv.notify_all();
                },
            .onEvent =
                [this](WatchEvent&& e) {
                  if (e.type == WatchEventType::Bookmark) return;
                  std::lock_guard lock(mu);
                  events.push_back(fmt::format(
                      "{} {} {}", watchEventTypeName(e.type), metadataString(e.object, "name"),
                      e.object.contains("data") ? e.object["data"].value("k", "") : ""));
                  cv.notify_all();
                },
            .onError =
                [this](const Error& e) {
                  std::lock_guard lock(mu);
                  errors.push_back(e.message);
                  cv.notify_all();
                }};
  }
  bool waitFor(const std::function<bool()>& pred) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, backends::testing::kWait, pred);
  }
  bool sawEvent(std::string_view e) {
    return std::find(events.begin(), events.end(), e) != events.end();
  }
};

TEST_CASE(
    "kube client: a kubeconfig with a CA file and a token; discovery, create, get; a wrong token "
    "is a 401") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  backends::testing::TempDir dir;
  backends::testing::writeFile(dir / "ca.crt", testing::testCerts().caPem);
  backends::testing::writeFile(dir / "config", fmt::format(R"(apiVersion: v1
kind: Config
current-context: test
clusters: [{{name: test, cluster: {{server: "{}", certificate-authority: ca.crt}}}}]
users: [{{name: tester, user: {{token: test-token}}}}]
contexts: [{{name: test, context: {{cluster: test, user: tester, namespace: default}}}}]
)",
                                                           server.url()));
  KubeConfigOptions o;
  o.explicitPath = (dir / "config").string();
  auto rc = loadRestConfig(o);
  REQUIRE_MESSAGE(rc, testing::why(rc));
  auto client = KubeClient::create(*rc);
  REQUIRE(client);
  KubeClient& c = **client;

  ApiResource cm = resolve(c, "", "ConfigMap");
  CHECK(cm.plural == "configmaps");
  CHECK(cm.namespaced);
  CHECK(cm.collectionPath("x") == "/api/v1/namespaces/x/configmaps");
  ApiResource deploy = resolve(c, "apps", "Deployment");
  CHECK(deploy.apiVersion() == "apps/v1");
  ApiResource ns = resolve(c, "", "Namespace");
  CHECK_FALSE(ns.namespaced);
  auto missing = c.discovery().resolve({"networking.istio.io", "VirtualService"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);
  CHECK(missing.error().message.find("VirtualService.networking.istio.io is not served") !=
        std::string::npos);

  auto created = c.create(cm, configMap("one", "1"));
  REQUIRE_MESSAGE(created, testing::why(created));
  CHECK(metadataString(*created, "uid") != "");
  auto got = c.get(cm, "default", "one");
  REQUIRE(got);
  CHECK((*got)["data"]["k"] == "1");
  auto absent = c.get(cm, "default", "nope");
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == ErrorCode::NotFound);
  CHECK(absent.error().message == "configmaps \"nope\" not found");

  auto wrong = server.client("wrong-token");
  auto denied = wrong->list(cm, {.namespace_ = "default"});
  REQUIRE_FALSE(denied);
  CHECK(denied.error().message == fmt::format("unauthorized: the API server at {} rejected the "
                                              "credentials of user \"tester\" (context \"test\")",
                                              server.url()));
}

TEST_CASE("kube client: a client certificate, and TLS verified against the cluster CA") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server(
      {.tls = true, .clientCa = true, .tokens = {"test-token"}, .forbid = {}, .extraArgs = {}});
  RestConfig rc = server.config("");
  rc.clientCertPem = testing::testCerts().clientCertPem;
  rc.clientKeyPem = testing::testCerts().clientKeyPem;
  auto client = KubeClient::create(rc);
  REQUIRE(client);
  ApiResource ns = resolve(**client, "", "Namespace");
  auto list = (*client)->list(ns);
  REQUIRE_MESSAGE(list, testing::why(list));
  CHECK(names(list->items) == std::vector<std::string>{"default", "kube-system"});

  RestConfig untrusted = server.config();
  untrusted.caPem.clear();  // the system's roots do not know our test CA
  auto bad = (*KubeClient::create(untrusted))->rest().call({.method = "GET", .path = "/api"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.starts_with(
      fmt::format("cannot reach {}: its TLS certificate is not trusted", server.url())));

  RestConfig insecure = untrusted;
  insecure.insecureSkipTlsVerify = true;
  CHECK((*KubeClient::create(insecure))->rest().call({.method = "GET", .path = "/api"}));

  // tls-server-name: the certificate is checked against it, not the URL's host.
  RestConfig named = server.config();
  named.tlsServerName = "localhost";
  CHECK((*KubeClient::create(named))->rest().call({.method = "GET", .path = "/api"}));
  named.tlsServerName = "apiserver.example";
  auto mismatch = (*KubeClient::create(named))->rest().call({.method = "GET", .path = "/api"});
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message.find("its TLS certificate is not trusted") != std::string::npos);
}

TEST_CASE("kube client: an exec plugin's token, run again after a 401") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  backends::testing::TempDir dir;
  // The first run hands out a token the server refuses; later runs a good one.
  backends::testing::writeFile(dir / "plugin", fmt::format(R"sh(#!/bin/sh
echo run >> '{0}/runs'
if [ "$(wc -l < '{0}/runs')" -eq 1 ]; then token=stale; else token=test-token; fi
echo "{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"$token\"}}}}"
)sh",
                                                           dir.path().string()));
  ::chmod((dir / "plugin").c_str(), 0755);
  RestConfig rc = server.config("");
  rc.exec = ExecConfig{.command = (dir / "plugin").string(),
                       .args = {},
                       .env = {},
                       .apiVersion = "client.authentication.k8s.io/v1",
                       .installHint = "",
                       .provideClusterInfo = false,
                       .interactiveMode = "Never",
                       .baseDir = ""};
  auto client = KubeClient::create(rc);
  REQUIRE(client);
  ApiResource cm = resolve(**client, "", "ConfigMap");
  REQUIRE((*client)->list(cm));
  CHECK((*client)->rest().authenticator().execRuns() == 2);
  REQUIRE((*client)->list(cm));
  CHECK((*client)->rest().authenticator().execRuns() == 2);  // cached: no expiry, no 401
}

TEST_CASE("kube client: list follows continue tokens with limit 2") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  for (int i = 0; i < 5; ++i) REQUIRE(c->create(cm, configMap(fmt::format("cm-{}", i), "v")));
  auto list = c->list(
      cm, {.namespace_ = "default", .labelSelector = "", .fieldSelector = "", .pageSize = 2});
  REQUIRE_MESSAGE(list, testing::why(list));
  CHECK(names(list->items) == std::vector<std::string>{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4"});
  CHECK_FALSE(list->resourceVersion.empty());
  CHECK(list->items[0]["kind"] == "ConfigMap");
  CHECK(list->items[0]["apiVersion"] == "v1");
  CHECK(logged(server, {"/api/v1/namespaces/default/configmaps", "limit=2"}) == 3);
  CHECK(logged(server, {"/api/v1/namespaces/default/configmaps", "continue="}) == 2);
}

TEST_CASE("kube client: watch sees changes; compaction (410 Gone) relists and carries on") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  REQUIRE(c->create(cm, configMap("before", "0")));
  Recorder rec;
  ReflectorOptions ro;
  ro.namespace_ = "default";
  ro.backoffBase = std::chrono::milliseconds(50);
  auto reflector = c->watch(cm, ro, rec.handler());
  REQUIRE(rec.waitFor([&] { return rec.lists.size() == 1; }));
  CHECK(rec.lists[0] == std::vector<std::string>{"before"});

  REQUIRE(c->apply(cm, configMap("w1", "1")));
  auto applied = c->apply(cm, configMap("w1", "2"));
  REQUIRE_MESSAGE(applied, testing::why(applied));
  REQUIRE(rec.waitFor([&] { return rec.sawEvent("MODIFIED w1 2"); }));
  CHECK(rec.events == std::vector<std::string>{"ADDED w1 1", "MODIFIED w1 2"});

  server.compact();
  REQUIRE(rec.waitFor([&] { return rec.lists.size() == 2; }));
  CHECK(rec.lists[1] == std::vector<std::string>{"before", "w1"});
  REQUIRE(c->create(cm, configMap("w2", "3")));
  REQUIRE(rec.waitFor([&] { return rec.sawEvent("ADDED w2 3"); }));
  CHECK(reflector->lists() == 2);

  reflector->stop();  // returns while a watch is open
  REQUIRE(c->create(cm, configMap("after-stop", "4")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard lock(rec.mu);
  CHECK_FALSE(rec.sawEvent("ADDED after-stop 4"));
}

TEST_CASE("kube client: a watch that breaks reconnects from the last resourceVersion") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  Recorder rec;
  ReflectorOptions ro;
  ro.namespace_ = "default";
  ro.backoffBase = std::chrono::milliseconds(20);
  ro.watchTimeout = std::chrono::seconds(1);  // the server ends each watch within 2s
  auto reflector = c->watch(cm, ro, rec.handler());
  REQUIRE(rec.waitFor([&] { return rec.lists.size() == 1; }));
  REQUIRE(c->apply(cm, configMap("a", "1")));
  REQUIRE(rec.waitFor([&] { return rec.sawEvent("ADDED a 1"); }));
  // Once the watch has ended and been re-established, changes still arrive, without a relist.
  REQUIRE(backends::testing::eventually([&] { return reflector->watches() >= 2; }));
  REQUIRE(c->apply(cm, configMap("a", "2")));
  REQUIRE(rec.waitFor([&] { return rec.sawEvent("MODIFIED a 2"); }));
  CHECK(reflector->lists() == 1);
}

TEST_CASE("kube client: a 500 is retried; one that persists is reported") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  server.fault({{"verb", "list"}, {"resource", "configmaps"}, {"status", 500}, {"count", 1}});
  auto list = c->list(cm, {.namespace_ = "default"});
  REQUIRE_MESSAGE(list, testing::why(list));
  CHECK(logged(server, {"/api/v1/namespaces/default/configmaps"}) == 2);

  server.fault({{"verb", "list"}, {"resource", "configmaps"}, {"status", 503}, {"count", -1}});
  auto failing = c->list(cm, {.namespace_ = "default"});
  REQUIRE_FALSE(failing);
  CHECK(failing.error().code == ErrorCode::Unavailable);
  CHECK(failing.error().message.find(
            "GET /api/v1/namespaces/default/configmaps failed on the API server (503") == 0);
  server.clearFaults();

  // A create is not idempotent: a 500 is not retried (it may have been stored).
  server.fault({{"verb", "create"}, {"resource", "configmaps"}, {"status", 500}, {"count", 1}});
  auto created = c->create(cm, configMap("x", "1"));
  REQUIRE_FALSE(created);
  CHECK(logged(server, {"POST", "/api/v1/namespaces/default/configmaps"}) == 1);
}

TEST_CASE("kube client: a 403 names the verb, the resource and the missing RBAC rule") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server({.tls = true,
                        .clientCa = false,
                        .tokens = {"test-token"},
                        .forbid = {"patch:deployments.apps"},
                        .extraArgs = {}});
  auto c = server.client();
  ApiResource deploy = resolve(*c, "apps", "Deployment");
  json d = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "nginx"}}})}}}}}}}};
  auto r = c->apply(deploy, d);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find(
            "cannot patch resource \"deployments\" in API group \"apps\" in the namespace "
            "\"default\" — the RBAC rule missing is: apiGroups [\"apps\"], resources "
            "[\"deployments\"], verbs [\"patch\"]") != std::string::npos);
  CHECK(r.error().hint.find("kubectl auth can-i patch deployments.apps -n default") !=
        std::string::npos);
}

TEST_CASE("kube client: server-side apply conflicts name the fields; force takes them over") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  REQUIRE(c->apply(cm, configMap("shared", "theirs"),
                   {.fieldManager = "other-tool", .force = false, .dryRun = false}));
  auto conflict = c->apply(cm, configMap("shared", "ours"));
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == ErrorCode::Conflict);
  CHECK(conflict.error().message.find(
            "apply conflict on configmaps \"shared\" in namespace \"default\"") == 0);
  CHECK(conflict.error().message.find(".data.k (managed by \"other-tool\")") != std::string::npos);
  auto forced = c->apply(cm, configMap("shared", "ours"),
                         {.fieldManager = "meshctl", .force = true, .dryRun = false});
  REQUIRE_MESSAGE(forced, testing::why(forced));
  CHECK((*forced)["data"]["k"] == "ours");
  auto dry = c->apply(cm, configMap("shared", "dry"),
                      {.fieldManager = "meshctl", .force = false, .dryRun = true});
  REQUIRE(dry);
  CHECK((*dry)["data"]["k"] == "dry");
  CHECK((*c->get(cm, "default", "shared"))["data"]["k"] == "ours");
}

TEST_CASE("kube client: delete with a propagation policy") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto c = server.client();
  ApiResource cm = resolve(*c, "", "ConfigMap");
  auto owner = c->create(cm, configMap("owner", "o"));
  REQUIRE(owner);
  auto dependent = [&](std::string name) {
    json d = configMap(name, "d");
    d["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "v1"},
                                                     {"kind", "ConfigMap"},
                                                     {"name", "owner"},
                                                     {"uid", metadataString(*owner, "uid")}}});
    REQUIRE(c->create(cm, d));
  };
  dependent("kept");
  auto orphaned = c->remove(cm, "default", "owner", {.propagationPolicy = "Orphan"});
  REQUIRE_MESSAGE(orphaned, testing::why(orphaned));
  REQUIRE(backends::testing::eventually([&] {
    auto kept = c->get(cm, "default", "kept");
    return kept && !(*kept)["metadata"].contains("ownerReferences");
  }));

  owner = c->create(cm, configMap("owner", "o"));
  REQUIRE(owner);
  dependent("collected");
  REQUIRE(c->remove(cm, "default", "owner", {.propagationPolicy = "Background"}));
  REQUIRE(backends::testing::eventually([&] { return !c->get(cm, "default", "collected"); }));

  auto gone = c->remove(cm, "default", "owner");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ErrorCode::NotFound);
}

TEST_CASE("kube client: a server that is not there is 'connection refused', not a hang") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);  // bound, never listening, now closed: nothing answers on this port
  RestConfig rc;
  rc.server = fmt::format("https://127.0.0.1:{}", ntohs(addr.sin_port));
  rc.source = "test";
  auto client = KubeClient::create(rc);
  REQUIRE(client);
  auto r = (*client)->discovery().resolve({"", "ConfigMap"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Unavailable);
  CHECK(r.error().message == fmt::format("cannot reach {}: connection refused", rc.server));
  CHECK(r.error().hint.find("API server is running") != std::string::npos);
}

}  // namespace
}  // namespace mesh::backends::kube
