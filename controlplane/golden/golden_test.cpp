// Golden tests: the xDS meshd generates for the samples, per proxy and type, as JSON checked
// against reviewed files under testdata/golden/. After an intended change, regenerate with
//   MESH_UPDATE_GOLDEN=1 build/controlplane/golden/cp_golden_test
// and review the diff like code.
#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/generator_set.h"
#include "core/loader.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::xds {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<google::protobuf::Message> messageFor(std::string_view typeUrl) {
  if (typeUrl == type_url::kCluster) return std::make_unique<envoy::config::cluster::v3::Cluster>();
  if (typeUrl == type_url::kEndpoint) return std::make_unique<envoy::config::endpoint::v3::ClusterLoadAssignment>();
  if (typeUrl == type_url::kListener) return std::make_unique<envoy::config::listener::v3::Listener>();
  return std::make_unique<envoy::config::route::v3::RouteConfiguration>();
}

// Resources as a JSON array of {name, resource}; object keys sorted so output is stable.
nlohmann::json toJson(std::string_view typeUrl, const XdsResources& resources) {
  nlohmann::json out = nlohmann::json::array();
  for (const XdsResource& r : resources) {
    auto msg = messageFor(typeUrl);
    REQUIRE(msg->ParseFromString(*r.body));
    std::string text;
    auto status = google::protobuf::util::MessageToJsonString(*msg, &text);
    REQUIRE_MESSAGE(status.ok(), status.ToString());
    out.push_back({{"name", r.name}, {"resource", nlohmann::json::parse(text)}});
  }
  return out;
}

std::shared_ptr<const model::ConfigSnapshot> loadSample(const std::string& dir) {
  core::LoadOptions options;
  auto paths = core::expandPaths({std::string(MESH_SOURCE_DIR) + "/" + dir}, true);
  REQUIRE(paths);
  auto loaded = core::loadPaths(*paths, options);
  for (const auto& d : loaded.diagnostics) FAIL_CHECK(d.format());
  return model::ConfigSnapshot::build(std::move(loaded.resources), 1);
}

void checkGolden(const std::string& sample, const model::Proxy& proxy, const std::string& goldenName) {
  auto snapshot = loadSample("samples/" + sample);
  for (const auto& d : snapshot->skipped()) FAIL_CHECK("skipped: " << d.format());
  auto generators = GeneratorSet::standard();
  auto scope = model::SidecarScope::compute(*snapshot, proxy);
  ProxyView view{*snapshot, proxy, scope, nullptr};
  // meshd generates through a cache that proxies of other namespaces filled first: that path
  // must give the same config as building everything for this proxy alone.
  GenerationCache cache;
  auto warmProxy = testing::sidecarProxy("warm-up", "warm-up-namespace");
  auto warmScope = model::SidecarScope::compute(*snapshot, warmProxy);
  ProxyView cachedView{*snapshot, proxy, scope, &cache};
  fs::path dir = fs::path(MESH_SOURCE_DIR) / "testdata/golden" / sample / goldenName;
  bool update = std::getenv("MESH_UPDATE_GOLDEN") != nullptr;
  for (std::string_view type : {type_url::kCluster, type_url::kEndpoint, type_url::kListener, type_url::kRoute}) {
    const Generator* gen = generators.find(proxy.generator, type);
    REQUIRE(gen != nullptr);
    ResourceNames all;  // wildcard: every resource of the type for this proxy
    std::string got = toJson(type, gen->generate(view, all)).dump(2) + "\n";
    gen->generateShared(ProxyView{*snapshot, warmProxy, warmScope, &cache}, all);
    CHECK_MESSAGE(toJson(type, *gen->generateShared(cachedView, all).resources).dump(2) + "\n" == got,
                  "the cached generation path differs for " << shortTypeName(type));
    fs::path file = dir / (std::string(shortTypeName(type)) + ".json");
    if (update) {
      fs::create_directories(dir);
      std::ofstream(file) << got;
      continue;
    }
    std::ifstream in(file);
    REQUIRE_MESSAGE(in.good(), "missing golden file " << file << " (MESH_UPDATE_GOLDEN=1 creates it)");
    std::stringstream want;
    want << in.rdbuf();
    CHECK_MESSAGE(got == want.str(), "xDS differs from " << file << "; if intended, regenerate with MESH_UPDATE_GOLDEN=1 and review");
  }
}

TEST_CASE("payments canary: the payments-api v1 sidecar") {
  // So checkGolden's cached path shares scopes and virtual hosts across namespaces.
  CHECK(loadSample("samples/payments")->outboundIsNamespaceIndependent());
  checkGolden("payments", testing::sidecarProxy("payments-api-v1", "payments", {{"app", "payments-api"}, {"version", "v1"}}),
              "sidecar-payments-api-v1");
}

TEST_CASE("payments canary: the orders sidecar (the caller)") {
  checkGolden("payments", testing::sidecarProxy("orders-v1", "orders", {{"app", "orders"}, {"version", "v1"}}),
              "sidecar-orders-v1");
}

TEST_CASE("payments canary: the ingress gateway") {
  checkGolden("payments", testing::routerProxy("ingressgateway", "istio-system", {{"istio", "ingressgateway"}}),
              "gateway-ingress");
}

TEST_CASE("bookinfo: the productpage sidecar") {
  checkGolden("bookinfo", testing::sidecarProxy("productpage-v1-123", "default", {{"app", "productpage"}, {"version", "v1"}}, "10.244.0.10"),
              "sidecar-productpage");
}

}  // namespace
}  // namespace mesh::xds
