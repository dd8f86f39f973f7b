// RemoteClusters: which remote-secret kubeconfigs are refused (nothing run, no file read), and,
// against two test API servers, a cluster added by a Secret, refused for an exec plugin,
// skipped when it names the local cluster, and dropped when its Secret goes.
#include "backends/kube/remote_clusters.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "backends/kube/codec.h"
#include "backends/kube/testing/test_api_server.h"
#include "backends/memory/memory_store.h"

namespace mesh::backends::kube {
namespace {

using nlohmann::json;
using testing::TestApiServer;

std::string kubeconfig(std::string_view server, std::string_view cluster, std::string_view user) {
  return fmt::format(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n{}"
      "users:\n- name: u\n  user:\n{}contexts:\n- name: ctx\n  context: {{cluster: c, user: u}}\n"
      "current-context: ctx\n",
      server, cluster, user);
}

std::string caData() {
  return fmt::format("    certificate-authority-data: {}\n",
                     base64Encode(testing::testCerts().caPem));
}

TEST_CASE(
    "remote secrets: kubeconfigs that would run a program or read meshd's files are refused") {
  auto ok = remoteRestConfig("secret istio-system/s key east",
                             kubeconfig("https://10.0.0.1:6443", caData(), "    token: abc\n"));
  REQUIRE_MESSAGE(ok, testing::why(ok));
  CHECK(ok->server == "https://10.0.0.1:6443");
  CHECK(ok->token == "abc");
  CHECK(ok->caPem == testing::testCerts().caPem);

  struct Case {
    std::string cluster, user, expected;
  };
  // The files named do not exist: a read would fail with "no such file", not a refusal.
  for (const Case& c : std::vector<Case>{
           {caData(),
            "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/touch, args: "
            "[/tmp/x], interactiveMode: Never}\n",
            "runs the exec credential plugin \"/bin/touch\""},
           {caData(), "    tokenFile: /var/run/secrets/nope/token\n",
            "reads tokenFile from meshd's disk"},
           {caData(), "    client-certificate: /etc/nope.crt\n    client-key: /etc/nope.key\n",
            "reads a client certificate or key"},
           {"    certificate-authority: /etc/nope-ca.pem\n", "    token: abc\n",
            "reads certificate-authority from a file"},
       }) {
    auto refused = remoteRestConfig("secret istio-system/s key east",
                                    kubeconfig("https://10.0.0.1:6443", c.cluster, c.user));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("secret istio-system/s key east") != std::string::npos);
    CHECK_MESSAGE(refused.error().message.find(c.expected) != std::string::npos,
                  refused.error().message);
    CHECK(refused.error().message.find("refused") != std::string::npos);
  }
  CHECK_FALSE(remoteRestConfig("secret istio-system/s key east", "clusters: [oops"));
}

json secret(std::string_view name, const std::map<std::string, std::string>& data) {
  json d = json::object();
  for (const auto& [k, v] : data) d[k] = base64Encode(v);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", name},
            {"namespace", "istio-system"},
            {"labels", {{"istio/multiCluster", "true"}}}}},
          {"data", d}};
}

json object(std::string_view kind, std::string_view name, std::string_view ns = "") {
  json o = {{"apiVersion", "v1"}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  if (kind == "Service") o["spec"] = {{"ports", json::array({{{"port", 8080}}})}};
  return o;
}

void create(KubeClient& client, const json& o) {
  auto api = client.discovery().resolve({"", o["kind"].get<std::string>()});
  REQUIRE_MESSAGE(api, testing::why(api));
  auto created = client.create(*api, o);
  REQUIRE_MESSAGE(created, testing::why(created));
}

TEST_CASE(
    "remote secrets: a Secret's cluster joins the store, an exec plugin is refused, removal drops "
    "it") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer local, remote;
  auto localClient = local.client();
  auto remoteClient = remote.client();
  create(*localClient, object("Namespace", "istio-system"));
  create(*remoteClient, object("Namespace", "shop"));
  create(*remoteClient, object("Service", "payments-api", "shop"));

  auto store = MultiClusterStore::open(std::make_shared<MemoryStore>(), "Kubernetes");
  REQUIRE(store);
  RemoteClustersOptions options;
  options.kinds = {{"", "Service"}};
  options.retryBase = std::chrono::milliseconds(50);
  options.retryMax = std::chrono::milliseconds(200);
  options.rest = TestApiServer::fastRetries();
  RemoteClusters clusters(localClient, **store, options);
  const core::ResourceKey payments{"", "Service", "shop", "payments-api"};
  auto has = [&](const core::ResourceKey& key) { return (*store)->get(key).has_value(); };
  auto stateOf = [&](std::string_view name) -> std::optional<RemoteClusters::State> {
    for (const auto& s : clusters.status())
      if (s.name == name) return s.state;
    return std::nullopt;
  };

  std::string good = kubeconfig(remote.url(), caData(), "    token: test-token\n");
  std::string exec = kubeconfig(remote.url(), caData(),
                                "    exec: {apiVersion: client.authentication.k8s.io/v1, command: "
                                "/bin/true, interactiveMode: Never}\n");
  create(*localClient, secret("istio-remote-secret-east", {{"east", good}, {"Kubernetes", good}}));
  create(*localClient, secret("istio-remote-secret-west", {{"west", exec}}));
  REQUIRE(backends::testing::eventually([&] { return has(payments); }));
  CHECK((*store)->clusters() == std::vector<std::string>{"east"});
  REQUIRE(backends::testing::eventually(
      [&] { return stateOf("west") == RemoteClusters::State::Refused; }));
  CHECK(stateOf("east") == RemoteClusters::State::Connected);
  CHECK_FALSE(stateOf("Kubernetes"));  // the local cluster's own ID is skipped

  // The remote cluster's changes flow through its watch.
  create(*remoteClient, object("Service", "ledger", "shop"));
  REQUIRE(backends::testing::eventually([&] { return has({"", "Service", "shop", "ledger"}); }));

  // A changed kubeconfig reconnects, and the new store takes over the old one's objects in one
  // step: unchanged objects cause no event (no endpoint churn when a token rotates).
  auto api = localClient->discovery().resolve({"", "Secret"});
  REQUIRE(api);
  backends::testing::EventLog log;
  auto sub = (*store)->watch(log.callback());
  REQUIRE(sub);
  std::string renamed = good;
  renamed.replace(renamed.find("name: ctx"), 9, "name: ctx2");
  renamed.replace(renamed.find("current-context: ctx"), 20, "current-context: ctx2");
  auto changed =
      localClient->apply(*api, secret("istio-remote-secret-east", {{"east", renamed}}),
                         ApplyOptions{.fieldManager = "test", .force = true, .dryRun = false});
  REQUIRE_MESSAGE(changed, testing::why(changed));
  auto detailOf = [&](std::string_view name) {
    for (const auto& s : clusters.status())
      if (s.name == name) return s.detail;
    return std::string();
  };
  REQUIRE(
      backends::testing::eventually([&] { return detailOf("east").ends_with("(context ctx2)"); }));
  CHECK(has(payments));
  CHECK(log.size() == 0);
  // A cluster that cannot be reached is retried, and leaves the others alone.
  create(
      *localClient,
      secret("istio-remote-secret-gone",
             {{"gone", kubeconfig("https://127.0.0.1:1", caData(), "    token: test-token\n")}}));
  REQUIRE(backends::testing::eventually(
      [&] { return stateOf("gone") == RemoteClusters::State::Failing; }));
  CHECK(has(payments));
  REQUIRE(localClient->remove(*api, "istio-system", "istio-remote-secret-gone"));

  REQUIRE(localClient->remove(*api, "istio-system", "istio-remote-secret-east"));
  REQUIRE(backends::testing::eventually(
      [&] { return !has(payments) && (*store)->clusters().empty(); }));
  CHECK_FALSE(stateOf("east"));
}

}  // namespace
}  // namespace mesh::backends::kube
