#include "proxy/admin/admin_server.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "proxy/xds/xds_test_resources.h"

namespace mesh::proxy::admin {
namespace {

using monitoring::HttpRequest;
using nlohmann::json;

struct Fixture {
  XdsView view{std::make_shared<XdsSnapshot>(), std::make_shared<XdsSnapshot>()};
  XdsStats stats;
  std::string istio = "# TYPE istio_requests_total counter\nistio_requests_total{reporter=\"source\"} 4\n";
  AdminServer server{sources(), AdminOptions{}};

  // Named fields: AdminSources grows optional sources that these tests leave unset.
  AdminSources sources() {
    AdminSources s;
    s.view = [this] { return view; };
    s.stats = [this] { return stats; };
    s.bootstrap = bootstrap();
    s.istioMetrics = [this] { return istio; };
    return s;
  }

  static BootstrapInfo bootstrap() {
    BootstrapInfo b;
    b.node.set_id("sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local");
    b.xdsAddress = "127.0.0.1:15010";
    b.adminAddress = "127.0.0.1:15000";
    b.startedAt = std::chrono::system_clock::now();
    return b;
  }

  void hold() {
    auto active = std::make_shared<XdsSnapshot>();
    auto now = std::chrono::system_clock::now();
    active->clusters["a"] = {testing::edsCluster("a"), "v1", now};
    active->endpoints["a"] = {testing::loadAssignment("a", 8080), "v1", now};
    active->listeners["l"] = {testing::httpListener("l", 15001, "80"), "v2", now};
    active->routes["80"] = {testing::routeConfig("80", "a"), "v3", now};
    active->typeVersions[std::string(type_url::kCluster)] = std::string("7");
    auto warming = std::make_shared<XdsSnapshot>();
    warming->clusters["b"] = {testing::edsCluster("b"), "v4", now};
    view = XdsView{active, warming};
  }

  monitoring::HttpResponse get(std::string path, std::string query = "", std::string method = "GET") {
    return server.adminRoutes().dispatch(HttpRequest{std::move(method), std::move(path), std::move(query), ""});
  }
};

}  // namespace

TEST_CASE("/config_dump: Envoy's sections, versions and states; EDS only when asked") {
  Fixture f;
  f.hold();
  auto resp = f.get("/config_dump");
  REQUIRE(resp.status == 200);
  json dump = json::parse(resp.body);
  REQUIRE(dump["configs"].size() == 6);
  CHECK(dump["configs"][0]["@type"] == "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump");
  CHECK(dump["configs"][0]["bootstrap"]["node"]["id"] == "sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local");
  const json& clusters = dump["configs"][1];
  CHECK(clusters["version_info"] == "7");
  CHECK(clusters["static_clusters"][0]["cluster"]["name"] == "xds-grpc");
  CHECK(clusters["dynamic_active_clusters"][0]["version_info"] == "v1");
  CHECK(clusters["dynamic_active_clusters"][0]["cluster"]["@type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  CHECK(clusters["dynamic_active_clusters"][0].contains("last_updated"));
  CHECK(clusters["dynamic_warming_clusters"][0]["cluster"]["name"] == "b");
  CHECK(dump["configs"][2]["dynamic_listeners"][0]["active_state"]["listener"]["name"] == "l");
  CHECK(dump["configs"][4]["dynamic_route_configs"][0]["route_config"]["name"] == "80");

  json withEds = json::parse(f.get("/config_dump", "include_eds=true").body);
  CHECK(withEds["configs"][2]["dynamic_endpoint_configs"][0]["endpoint_config"]["cluster_name"] == "a");

  json listeners = json::parse(f.get("/config_dump", "resource=dynamic_listeners&mask=name").body);
  CHECK(listeners["configs"] == json::array({{{"@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener"},
                                              {"name", "l"}}}));
  CHECK(f.get("/config_dump", "resource=no_such_field").status == 404);
  CHECK(f.get("/config_dump", "resource=dynamic_listeners&mask=nope").status == 400);
}

TEST_CASE("/ready and /healthz/ready follow the xDS client; draining turns them off") {
  Fixture f;
  CHECK(f.get("/ready").status == 503);
  CHECK(f.get("/ready").body == "PRE_INITIALIZING\n");
  f.stats.types[std::string(type_url::kCluster)].updateSuccess = 1;
  CHECK(f.get("/ready").body == "INITIALIZING\n");
  CHECK(f.server.statusRoutes().dispatch(HttpRequest{"GET", "/healthz/ready", "", ""}).status == 503);
  f.stats.initialized = true;
  CHECK(f.get("/ready").status == 200);
  CHECK(f.get("/ready").body == "LIVE\n");
  CHECK(f.server.statusRoutes().dispatch(HttpRequest{"GET", "/healthz/ready", "", ""}).status == 200);
  CHECK(f.get("/healthz").status == 200);
  f.server.setDraining();
  CHECK(f.get("/ready").body == "DRAINING\n");
  CHECK(f.get("/healthz").status == 503);
  CHECK(f.server.statusRoutes().dispatch(HttpRequest{"GET", "/healthz/ready", "", ""}).status == 503);
}

TEST_CASE("/stats, /stats/prometheus, /clusters and /logging") {
  Fixture f;
  f.hold();
  auto& cds = f.stats.types[std::string(type_url::kCluster)];
  cds.updateAttempt = 3;
  cds.updateSuccess = 2;
  cds.updateRejected = 1;
  cds.lastNack = std::string("bad cluster");
  f.stats.connected = true;
  std::string text = f.get("/stats").body;
  CHECK(text.find("cluster_manager.cds.update_rejected: 1\n") != std::string::npos);
  CHECK(text.find("cluster_manager.cds.last_nack_message: \"bad cluster\"\n") != std::string::npos);
  CHECK(text.find("control_plane.connected_state: 1\n") != std::string::npos);
  CHECK(f.get("/stats", "filter=update_success").body == "cluster_manager.cds.update_success: 2\n");
  CHECK(f.get("/stats", "filter=(").status == 400);
  std::string prom = f.get("/stats/prometheus").body;
  CHECK(prom.find("# TYPE envoy_cluster_manager_cds_update_attempt counter\nenvoy_cluster_manager_cds_update_attempt{} 3\n") !=
        std::string::npos);
  // Istio's metrics follow Envoy's, on the admin port and on the Prometheus port (15090) alike.
  CHECK(prom.find("envoy_cluster_manager_cds_update_attempt{} 3\n") < prom.find("istio_requests_total{reporter=\"source\"} 4\n"));
  CHECK(prom.find("istio_requests_total{reporter=\"source\"} 4\n") != std::string::npos);
  auto scraped = f.server.prometheusRoutes().dispatch(HttpRequest{"GET", "/stats/prometheus", "", ""});
  CHECK(scraped.status == 200);
  CHECK(scraped.body == prom);
  CHECK(f.server.prometheusRoutes().dispatch(HttpRequest{"GET", "/config_dump", "", ""}).status == 404);
  std::string clusters = f.get("/clusters").body;
  CHECK(clusters.find("a::127.0.0.1:8080::health_flags::healthy\n") != std::string::npos);
  CHECK(clusters.find("xds-grpc::added_via_api::false\n") != std::string::npos);
  json cj = json::parse(f.get("/clusters", "format=json").body);
  CHECK(cj["cluster_statuses"][0]["name"] == "a");
  CHECK(cj["cluster_statuses"][0]["host_statuses"][0]["address"]["socket_address"]["port_value"] == 8080);

  CHECK(f.get("/logging").body.find("active loggers:") == 0);
  CHECK(f.get("/logging", "level=loud", "POST").status == 400);
  CHECK(f.get("/logging", "level=warning", "POST").status == 200);
  CHECK(f.get("/logging").body.find("xds: warning") != std::string::npos);
  CHECK(f.get("/logging", "level=info", "POST").status == 200);
  CHECK(f.get("/quitquitquit").status == 405);
}

TEST_CASE("/clusters marks the hosts outlier detection ejected, as Envoy does") {
  Fixture f;
  f.hold();
  EjectedHosts ejected{"a::127.0.0.1:8080", "gone::127.0.0.1:1"};
  std::string text = clustersText(f.view, "127.0.0.1:15010", ejected);
  CHECK(text.find("a::127.0.0.1:8080::health_flags::/failed_outlier_check\n") != std::string::npos);
  CHECK(text.find("xds-grpc::127.0.0.1:15010::health_flags::healthy\n") != std::string::npos);
  json cj = json::parse(clustersJson(f.view, "127.0.0.1:15010", ejected));
  const json& host = cj["cluster_statuses"][0]["host_statuses"][0];
  CHECK(host["health_status"]["failed_outlier_check"] == true);
  CHECK(host["health_status"]["eds_health_status"] == "HEALTHY");
  CHECK_FALSE(cj["cluster_statuses"][1]["host_statuses"][0]["health_status"].contains("failed_outlier_check"));
}

TEST_CASE("the admin address must be loopback unless remote access is allowed") {
  CHECK(checkAdminAddress("127.0.0.1:15000", false));
  CHECK(checkAdminAddress("[::1]:15000", false));
  CHECK(checkAdminAddress("localhost:15000", false));
  CHECK_FALSE(checkAdminAddress("0.0.0.0:15000", false));
  CHECK_FALSE(checkAdminAddress(":15000", false));
  CHECK(checkAdminAddress("0.0.0.0:15000", true));
}

}  // namespace mesh::proxy::admin

TEST_CASE("/stats carries the data plane's counters beside the xDS client's") {
  mesh::proxy::admin::ServerStats s;
  s.dataPlane = {{"dataplane.rbac.denied", true, 2}, {"dataplane.downstream_rq_total", true, 7}};
  std::string text = mesh::proxy::admin::statsText(s, "");
  CHECK(text.find("dataplane.rbac.denied: 2\n") != std::string::npos);
  CHECK(text.find("dataplane.downstream_rq_total: 7\n") < text.find("dataplane.rbac.denied: 2\n"));  // sorted
  std::string prom = mesh::proxy::admin::statsPrometheus(s);
  CHECK(prom.find("# TYPE envoy_dataplane_rbac_denied counter\nenvoy_dataplane_rbac_denied{} 2\n") != std::string::npos);
}
