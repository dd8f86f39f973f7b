// /config_dump's SecretsConfigDump (the agent's "default"/"ROOTCA" and the Secrets fetched over
// ADS, keys redacted as Envoy's are) and /healthz/ready waiting for the workload certificate.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "proxy/admin/admin_server.h"

namespace mesh::proxy::admin {
namespace {

using monitoring::HttpRequest;
using nlohmann::json;
using envoy::extensions::transport_sockets::tls::v3::Secret;

Secret certificate(const std::string& name, const std::string& key) {
  Secret s;
  s.set_name(name);
  s.mutable_tls_certificate()->mutable_certificate_chain()->set_inline_bytes("CHAIN");
  s.mutable_tls_certificate()->mutable_private_key()->set_inline_bytes(key);
  return s;
}

struct Fixture {
  XdsView view{std::make_shared<XdsSnapshot>(), std::make_shared<XdsSnapshot>()};
  XdsStats stats;
  std::vector<DumpedSecret> agent;
  std::string notReady;
  AdminServer server{sources(), AdminOptions{}};

  AdminSources sources() {
    AdminSources s;
    s.view = [this] { return view; };
    s.stats = [this] { return stats; };
    s.bootstrap.node.set_id("router~127.0.0.1~gw-1.istio-system~istio-system.svc.cluster.local");
    s.agentSecrets = [this] { return agent; };
    s.notReadyReason = [this] { return notReady; };
    return s;
  }
};

}  // namespace

TEST_CASE("/config_dump lists the agent's and the ADS secrets with private keys redacted") {
  Fixture f;
  auto now = std::chrono::system_clock::now();
  // The agent hands its secrets over redacted already; the dump redacts whatever it is given.
  f.agent.push_back({certificate("default", "AGENT-KEY-MATERIAL"), "2026-01-01T00:00:00Z", now});
  auto active = std::make_shared<XdsSnapshot>();
  active->secrets["kubernetes://shop"] = {certificate("kubernetes://shop", "GATEWAY-KEY-MATERIAL"), "v3", now};
  f.view.active = active;

  auto resp = f.server.adminRoutes().dispatch(HttpRequest{"GET", "/config_dump", "", ""});
  REQUIRE(resp.status == 200);
  CHECK(resp.body.find("KEY-MATERIAL") == std::string::npos);
  json dump = json::parse(resp.body);
  const json& secrets = dump["configs"].back();
  CHECK(secrets["@type"] == "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
  REQUIRE(secrets["dynamic_active_secrets"].size() == 2);
  const json& agent = secrets["dynamic_active_secrets"][0];
  CHECK(agent["name"] == "default");
  CHECK(agent["version_info"] == "2026-01-01T00:00:00Z");
  CHECK(agent["secret"]["tls_certificate"]["private_key"]["inline_string"] == "[redacted]");
  const json& ads = secrets["dynamic_active_secrets"][1];
  CHECK(ads["name"] == "kubernetes://shop");
  CHECK(ads["version_info"] == "v3");
  CHECK(ads["secret"]["@type"] == "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");
  CHECK(ads["secret"]["tls_certificate"]["private_key"]["inline_string"] == "[redacted]");

  auto only = f.server.adminRoutes().dispatch(HttpRequest{"GET", "/config_dump", "resource=dynamic_active_secrets", ""});
  REQUIRE(only.status == 200);
  CHECK(json::parse(only.body)["configs"].size() == 2);
  CHECK(only.body.find("KEY-MATERIAL") == std::string::npos);
}

TEST_CASE("/healthz/ready waits for the workload certificate after xDS") {
  Fixture f;
  f.stats.initialized = true;
  f.notReady = "waiting for the workload certificate of spiffe://cluster.local/ns/istio-system/sa/default";
  auto waiting = f.server.statusRoutes().dispatch(HttpRequest{"GET", "/healthz/ready", "", ""});
  CHECK(waiting.status == 503);
  CHECK(waiting.body.find("workload certificate") != std::string::npos);
  f.notReady.clear();
  CHECK(f.server.statusRoutes().dispatch(HttpRequest{"GET", "/healthz/ready", "", ""}).status == 200);
}

}  // namespace mesh::proxy::admin
