// The writers on small dumps written here, and on the conformance corpus when it is present
// beside the checkout (../shared/conformance/proxy-config).
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/proxy_config/authz_writer.h"
#include "cli/proxy_config/cluster_writer.h"
#include "cli/proxy_config/config_compare.h"
#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/ecds_writer.h"
#include "cli/proxy_config/eds_writer.h"
#include "cli/proxy_config/endpoint_writer.h"
#include "cli/proxy_config/listener_writer.h"
#include "cli/proxy_config/route_writer.h"
#include "cli/proxy_config/secret_writer.h"
#include "cli/proxy_config/sync_status.h"
#include "cli/proxy_config/type_registry.h"

using namespace mesh::cli::pc;

namespace {

ConfigDumpView view(std::string_view json) {
  auto dump = parseConfigDump(json);
  REQUIRE(dump.has_value());
  return ConfigDumpView(std::move(*dump));
}

constexpr std::string_view kClusters = R"({"configs": [{
  "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
  "static_clusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "name": "agent", "type": "STATIC"}}],
  "dynamic_active_clusters": [
    {"version_info": "v1", "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "name": "outbound|9080|v2|reviews.default.svc.cluster.local", "type": "EDS",
      "metadata": {"filter_metadata": {"istio": {"config": "/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews"}}}}},
    {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "name": "outbound|9080|v1|reviews.default.svc.cluster.local", "type": "EDS"}},
    {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "name": "BlackHoleCluster", "type": "STATIC", "transport_socket_matches": [{"name": "tlsMode-istio"}]}}]}]})";

std::filesystem::path corpus() {
  return std::filesystem::path(MESH_SOURCE_DIR).parent_path() / "shared" / "conformance" / "proxy-config";
}

std::string readCorpus(const std::string& rel) {
  auto text = readInputFile((corpus() / rel).string());
  REQUIRE(text.has_value());
  return *text;
}

}  // namespace

TEST_CASE("cluster table: sorted by FQDN, subset, port and direction; DESTINATION RULE from metadata") {
  auto table = clusterSummary(view(kClusters), {}, false);
  REQUIRE(table.has_value());
  CHECK(*table ==
        "SERVICE FQDN                          PORT     SUBSET     DIRECTION     TYPE       DESTINATION RULE\n"
        "BlackHoleCluster                      -        -          -             STATIC     \n"
        "agent                                 -        -          -             STATIC     \n"
        "reviews.default.svc.cluster.local     9080     v1         outbound      EDS        \n"
        "reviews.default.svc.cluster.local     9080     v2         outbound      EDS        reviews.default\n");
  ClusterFilter subset{"", 0, "v2", ""};
  auto filtered = clusterSummary(view(kClusters), subset, false);
  REQUIRE(filtered.has_value());
  CHECK(filtered->find("v1") == std::string::npos);
}

TEST_CASE("cluster JSON keeps declaration order (transport_socket_matches comes first), and set oneofs") {
  auto json = clusterDump(view(kClusters), {"BlackHole", 0, "", ""}, OutputFormat::Json);
  REQUIRE(json.has_value());
  CHECK(*json ==
        "[\n    {\n        \"transportSocketMatches\": [\n            {\n                \"name\": \"tlsMode-istio\"\n"
        "            }\n        ],\n        \"name\": \"BlackHoleCluster\",\n        \"type\": \"STATIC\"\n    }\n]\n");
}

TEST_CASE("a missing section is istioctl's 'config dump has no configuration type' error") {
  auto v = view("{}");
  auto table = clusterSummary(v, {}, false);
  REQUIRE_FALSE(table.has_value());
  CHECK(table.error().message ==
        "config dump has no configuration type type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
  CHECK(listenerSummary(v, {}, false)
            .error()
            .message.starts_with("listener dump: config dump has no configuration type"));
  CHECK(edsSummary(v, {}, false).error().message.starts_with("endpoints not found (was include_eds=true used?)"));
}

TEST_CASE("unknown types inside Any are skipped, not fatal") {
  auto dump = parseConfigDump(R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "static_listeners": [{"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
      "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15090}},
      "filter_chains": [{"filters": [
        {"name": "istio.stats", "typed_config": {"@type": "type.googleapis.com/stats.PluginConfig", "x": {"y": [1]}}},
        {"name": "envoy.filters.network.tcp_proxy", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          "stat_prefix": "s", "cluster": "outbound|53||kube-dns"}}]}]}}]}]})");
  REQUIRE(dump.has_value());
  auto table = listenerSummary(ConfigDumpView(std::move(*dump)), {}, false);
  REQUIRE(table.has_value());
  CHECK(*table == "ADDRESSES PORT  MATCH DESTINATION\n0.0.0.0   15090 ALL   Cluster: outbound|53||kube-dns\n");
}

TEST_CASE("the members of an unknown type inside Any survive to -o json") {
  auto v = view(R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "static_listeners": [{"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
      "name": "l", "filter_chains": [{"filters": [
        {"name": "istio.stats", "typed_config": {"@type": "type.googleapis.com/stats.PluginConfig", "x": {"y": [1]}}}]}]}}]}]})");
  auto json = listenerDump(v, {}, OutputFormat::Json);
  REQUIRE(json.has_value());
  CHECK(json->find("\"@type\": \"type.googleapis.com/stats.PluginConfig\",\n"
                   "                            \"x\": {\n"
                   "                                \"y\": [\n") != std::string::npos);
}

TEST_CASE("authz check counts rules per policy, DENY before ALLOW, with the anonymous policy") {
  auto v = view(R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "dynamic_listeners": [{"name": "virtualInbound", "active_state": {"listener": {
      "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "virtualInbound",
      "filter_chains": [{"filters": [
        {"name": "envoy.filters.network.rbac", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC", "stat_prefix": "tcp.", "rules": {}}},
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "http_filters": [
            {"name": "envoy.filters.http.rbac", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
              "rules": {"action": "DENY", "policies": {
                "ns[foo]-policy[deny]-rule[0]": {"permissions": [{"any": true}], "principals": [{"any": true}]},
                "ns[foo]-policy[deny]-rule[1]": {"permissions": [{"any": true}], "principals": [{"any": true}]}}}}},
            {"name": "envoy.filters.http.rbac", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
              "rules": {"policies": {"ns[default]-policy[httpbin]-rule[0]": {"permissions": [{"any": true}], "principals": [{"any": true}]}}}}}
          ]}}]}]}}}]}]})");
  auto table = authzCheck(v);
  REQUIRE(table.has_value());
  CHECK(*table ==
        "ACTION   AuthorizationPolicy         RULES\n"
        "DENY     deny.foo                    2\n"
        "ALLOW    _anonymous_match_nothing_   1\n"
        "ALLOW    httpbin.default             1\n");
}

TEST_CASE("/clusters endpoints: ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER sorted by address") {
  auto clusters = parseClusters(R"({"cluster_statuses": [
    {"name": "outbound|80||b", "host_statuses": [
      {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 80}}, "health_status": {"eds_health_status": "HEALTHY"}}]},
    {"name": "sds-grpc", "host_statuses": [
      {"address": {"pipe": {"path": "/sock"}}, "health_status": {"failed_outlier_check": true}}]}]})");
  REQUIRE(clusters.has_value());
  CHECK(endpointSummary(**clusters, {}) ==
        "ENDPOINT         STATUS      OUTLIER CHECK     CLUSTER\n"
        "10.0.0.2:80      HEALTHY     OK                outbound|80||b\n"
        "unix:///sock     UNKNOWN     FAILED            sds-grpc\n");
  auto empty = parseClusters("{}");
  REQUIRE(empty.has_value());
  CHECK(endpointSummary(**empty, {}) == "ENDPOINT     STATUS     OUTLIER CHECK     CLUSTER\n");
}

TEST_CASE("proxy-status table and verbose columns") {
  auto binary =
      R"({"versionInfo": "1.1", "resources": [{"@type": "type.googleapis.com/envoy.service.status.v3.ClientConfig",
    "node": {"id": "proxy1", "metadata": {"CLUSTER_ID": "c1", "ISTIO_VERSION": "1.20", "NAMESPACE": "foo"}},
    "genericXdsConfigs": [
      {"typeUrl": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "configStatus": "SYNCED"},
      {"typeUrl": "type.googleapis.com/envoy.config.listener.v3.Listener", "configStatus": "NOT_SENT"},
      {"typeUrl": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "configStatus": "UNKNOWN"}]}],
    "controlPlane": {"identifier": "{\"ID\":\"istiod1\"}"}})";
  auto response =
      mesh::cli::pc::TypeRegistry::instance().jsonToBinary("envoy.service.discovery.v3.DiscoveryResponse", binary);
  REQUIRE(response.has_value());
  envoy::service::discovery::v3::DiscoveryResponse dr;
  REQUIRE(dr.ParseFromString(*response));
  SynczResponses responses{{"istiod1", dr}};
  SyncStatusOptions o;
  CHECK(syncStatus(responses, o) ==
        "NAME       CLUSTER     ISTIOD      VERSION     SUBSCRIBED TYPES\n"
        "proxy1     c1          istiod1     1.20        2 (CDS,LDS)\n");
  o.verbosity = 1;
  CHECK(syncStatus(responses, o) ==
        "NAME       CLUSTER     CDS        LDS          RDS         ISTIOD      VERSION\n"
        "proxy1     c1          SYNCED     NOT SENT     IGNORED     istiod1     1.20\n");
  o.ns = "bar";
  CHECK(syncStatus(responses, o) == "NAME     CLUSTER     ISTIOD     VERSION\n");
}

TEST_CASE("the conformance corpus, when present") {
  if (!std::filesystem::exists(corpus() / "manifest.json")) return;
  const std::string base = "data/writer/envoy/configdump/testdata/";
  auto secret = view(readCorpus(base + "secret/istio/config_dump.json"));
  auto table = secretSummary(secret, false, 1767225600);  // 2026-01-01
  REQUIRE(table.has_value());
  CHECK(*table == readCorpus(base + "secret/istio/output"));

  auto eds = view(readCorpus(base + "endpoint/configdump.json"));
  auto yaml = edsDump(eds, {"", 8080, "", ""}, OutputFormat::Yaml);
  REQUIRE(yaml.has_value());
  CHECK(*yaml == readCorpus(base + "endpoint/portfilter_output.yaml"));

  auto ecds = view(readCorpus(base + "ecds/configdump.json"));
  CHECK(*ecdsDump(ecds, OutputFormat::Json) == readCorpus(base + "ecds/output.json"));

  auto istiod = view(readCorpus("data/writer/compare/testdata/configdump.json"));
  std::string same = compareConfigs(istiod, istiod);
  CHECK(same.starts_with("Clusters Match\nListeners Match\nRoutes Match"));
}
