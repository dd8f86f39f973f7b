// The debug gRPC API end to end in-process: an ADS server fed a snapshot, one proxy connected
// over a real ADS stream, and every debug RPC called over loopback gRPC.
#include "controlplane/debug/debug_service.h"

#include <cstdlib>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "controlplane/debug/debug_server.h"
#include "controlplane/debug/proxy_config_dump.h"
#include "controlplane/testing/fixtures.h"
#include "core/version.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace mesh::debug {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using server::DiscoveryRequest;
using server::DiscoveryResponse;

// Line 18 holds the invalid weight of the VirtualService that the snapshot skips.
constexpr std::string_view kMesh = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: 9001}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http:
  - route:
    - destination: {host: payments-api.payments.svc.cluster.local}
      weight: -5
)";
constexpr std::string_view kNodeId = "sidecar~10.0.0.1~client-1.payments~payments.svc.cluster.local";
constexpr std::string_view kCluster = "outbound|8080||payments-api.payments.svc.cluster.local";

void setDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

// meshd's wiring in miniature: ADS on one server, the debug API on its own.
struct Meshd {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  PushHistory history;
  std::unique_ptr<server::AdsServer> ads;
  std::unique_ptr<DebugService> debug;
  std::unique_ptr<grpc::Server> adsServer, debugServer;
  int adsPort = 0, debugPort = 0;

  Meshd() {
    server::AdsServerOptions options;
    options.workerThreads = 2;
    server::AdsServerHooks hooks;
    hooks.pushed = [this](std::string_view type, size_t bytes, double s) { history.recordPush(type, bytes, s); };
    hooks.rejected = [this](const model::Proxy& p, std::string_view type, std::string_view message) {
      history.recordError(PushHistory::ErrorKind::Nack, p.id, type, message);
    };
    ads = std::make_unique<server::AdsServer>(generators, options, hooks);
    auto push = std::make_shared<server::PushContext>();
    push->snapshot = testing::snapshotFromYaml(kMesh);
    ads->publish(push);
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &adsPort);
    b.RegisterService(ads.get());
    adsServer = b.BuildAndStart();
    REQUIRE(adsPort != 0);

    debug = std::make_unique<DebugService>(*ads, generators, history, DebugServiceOptions{"test-meshd", {}});
    DebugServerOptions debugOptions;
    debugOptions.address = "127.0.0.1:0";
    auto started = startDebugServer(debugOptions, *debug, debugPort);
    REQUIRE(started);
    debugServer = std::move(*started);
  }
  ~Meshd() {
    debugServer->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    adsServer->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  std::shared_ptr<grpc::Channel> channel(int port) const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials(), args);
  }

  // Waits until the ADS server has recorded `pred` about the one proxy.
  template <typename Pred>
  void waitFor(Pred pred) const {
    for (int i = 0; i < 250; ++i) {
      auto proxies = ads->proxies();
      if (proxies.size() == 1 && pred(proxies[0])) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the ADS server never reached the expected state");
  }
};

DiscoveryRequest request(std::string_view type, bool withNode) {
  DiscoveryRequest r;
  r.set_type_url(std::string(type));
  if (withNode) r.mutable_node()->set_id(std::string(kNodeId));
  return r;
}

template <typename T>
T unpack(const google::protobuf::Any& any) {
  T out;
  REQUIRE(any.UnpackTo(&out));
  return out;
}

TEST_CASE("debug API: sync status, config dump, generated resources, push status and version") {
  Meshd meshd;
  auto ads = AggregatedDiscoveryService::NewStub(meshd.channel(meshd.adsPort));
  auto debug = v1::MeshDebug::NewStub(meshd.channel(meshd.debugPort));

  // The fake proxy: CDS (then NACKs it), then LDS (and ACKs it).
  grpc::ClientContext streamCtx;
  setDeadline(streamCtx);
  auto stream = ads->StreamAggregatedResources(&streamCtx);
  REQUIRE(stream->Write(request(xds::type_url::kCluster, true)));
  DiscoveryResponse cds;
  REQUIRE(stream->Read(&cds));
  DiscoveryRequest nack = request(xds::type_url::kCluster, false);
  nack.set_response_nonce(cds.nonce());
  nack.mutable_error_detail()->set_message("cluster rejected by the test");
  REQUIRE(stream->Write(nack));
  REQUIRE(stream->Write(request(xds::type_url::kListener, false)));
  DiscoveryResponse lds;
  REQUIRE(stream->Read(&lds));
  REQUIRE(lds.type_url() == xds::type_url::kListener);
  DiscoveryRequest ack = request(xds::type_url::kListener, false);
  ack.set_response_nonce(lds.nonce());
  ack.set_version_info(lds.version_info());
  REQUIRE(stream->Write(ack));
  meshd.waitFor([&](const server::ProxyStatus& p) {
    auto it = p.types.find(std::string(xds::type_url::kListener));
    return it != p.types.end() && it->second.ackedNonce == lds.nonce();
  });

  SUBCASE("ListProxies: per-type sent/acked nonces and the NACK") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::ListProxiesResponse resp;
    REQUIRE(debug->ListProxies(&ctx, {}, &resp).ok());
    REQUIRE(resp.proxies_size() == 1);
    const v1::ProxySyncStatus& p = resp.proxies(0);
    CHECK(p.proxy_id() == kNodeId);
    CHECK(p.name() == "client-1.payments");
    CHECK(p.cluster_id() == "Kubernetes");
    CHECK(p.meshd_instance() == "test-meshd");
    CHECK(p.stream() == "sotw");
    CHECK(p.connected_at().seconds() > 0);
    REQUIRE(p.types_size() == 2);
    CHECK(p.types(0).type_url() == xds::type_url::kCluster);  // push order: CDS before LDS
    CHECK(p.types(0).sent_nonce() == cds.nonce());
    CHECK(p.types(0).acked_nonce().empty());
    CHECK(p.types(0).last_nack() == "cluster rejected by the test");
    CHECK(p.types(1).type_url() == xds::type_url::kListener);
    CHECK(p.types(1).acked_nonce() == lds.nonce());
    CHECK(p.types(1).acked_version() == lds.version_info());
    CHECK(p.types(1).acked_generation() == 1);
    CHECK(p.types(1).resources() == static_cast<uint64_t>(lds.resources_size()));
  }

  SUBCASE("GetConfigDump: Envoy's ConfigDump, in Envoy's order, by id or by name") {
    for (std::string_view key : {kNodeId, std::string_view("client-1.payments")}) {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::GetConfigDumpRequest req;
      req.set_proxy(std::string(key));
      envoy::admin::v3::ConfigDump dump;
      auto status = debug->GetConfigDump(&ctx, req, &dump);
      REQUIRE_MESSAGE(status.ok(), status.error_message());
      REQUIRE(dump.configs_size() == 6);
      CHECK(dump.configs(0).type_url() == "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump");
      CHECK(dump.configs(1).type_url() == "type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
      CHECK(dump.configs(2).type_url() == "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump");
      CHECK(dump.configs(3).type_url() == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump");
      CHECK(dump.configs(4).type_url() == "type.googleapis.com/envoy.admin.v3.RoutesConfigDump");
      CHECK(dump.configs(5).type_url() == "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");

      auto bootstrap = unpack<envoy::admin::v3::BootstrapConfigDump>(dump.configs(0));
      CHECK(bootstrap.bootstrap().node().id() == kNodeId);
      CHECK(bootstrap.bootstrap().node().metadata().fields().at("NAMESPACE").string_value() == "payments");

      auto clusters = unpack<envoy::admin::v3::ClustersConfigDump>(dump.configs(1));
      CHECK(clusters.version_info() == "1");
      std::set<std::string> clusterNames;
      for (const auto& c : clusters.dynamic_active_clusters()) {
        CHECK(c.version_info() == "1");
        CHECK(c.last_updated().seconds() > 0);
        clusterNames.insert(unpack<envoy::config::cluster::v3::Cluster>(c.cluster()).name());
      }
      CHECK(clusterNames.contains(std::string(kCluster)));
      CHECK(clusterNames.contains("BlackHoleCluster"));
      CHECK(clusterNames.size() == static_cast<size_t>(cds.resources_size()));

      auto listeners = unpack<envoy::admin::v3::ListenersConfigDump>(dump.configs(3));
      std::set<std::string> listenerNames;
      for (const auto& l : listeners.dynamic_listeners()) {
        CHECK(l.name() == unpack<envoy::config::listener::v3::Listener>(l.active_state().listener()).name());
        listenerNames.insert(l.name());
      }
      CHECK(listenerNames.contains("0.0.0.0_8080"));
      CHECK(listenerNames.contains("virtualOutbound"));
      CHECK(listenerNames.size() == static_cast<size_t>(lds.resources_size()));

      // EDS and RDS were never subscribed: the dump shows what a wildcard request would get.
      auto endpoints = unpack<envoy::admin::v3::EndpointsConfigDump>(dump.configs(2));
      CHECK(endpoints.dynamic_endpoint_configs_size() >= 1);
      auto routes = unpack<envoy::admin::v3::RoutesConfigDump>(dump.configs(4));
      CHECK(routes.dynamic_route_configs_size() >= 1);
      CHECK(unpack<envoy::admin::v3::SecretsConfigDump>(dump.configs(5)).dynamic_active_secrets_size() == 0);

      // The dump converts to Envoy's JSON (what `meshctl proxy-config --file` reads).
      std::string json;
      REQUIRE(google::protobuf::util::MessageToJsonString(dump, &json).ok());
      CHECK(json.find(std::string(kCluster)) != std::string::npos);
      if (const char* out = std::getenv("MESH_DEBUG_DUMP_JSON")) std::ofstream(out) << json;
    }
  }

  SUBCASE("GetConfigDump: an unknown proxy is NOT_FOUND and says how many are connected") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::GetConfigDumpRequest req;
    req.set_proxy("nobody.nowhere");
    envoy::admin::v3::ConfigDump dump;
    auto status = debug->GetConfigDump(&ctx, req, &dump);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(status.error_message() ==
          "proxy \"nobody.nowhere\" is not connected to this meshd (1 proxy is connected; ListProxies lists them)");
  }

  SUBCASE("GetGeneratedResources: the subscription, named resources, names only, bad types") {
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::GetGeneratedResourcesRequest req;
      req.set_proxy("client-1.payments");
      req.set_type_url("cds");
      v1::GetGeneratedResourcesResponse resp;
      REQUIRE(debug->GetGeneratedResources(&ctx, req, &resp).ok());
      CHECK(resp.type_url() == xds::type_url::kCluster);
      CHECK(resp.generation() == 1);
      CHECK(resp.subscribed());
      CHECK(resp.wildcard());
      REQUIRE(resp.resources_size() == cds.resources_size());
      // Byte for byte what the stream sent.
      for (int i = 0; i < resp.resources_size(); ++i)
        CHECK(resp.resources(i).resource().value() == cds.resources(i).value());
    }
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::GetGeneratedResourcesRequest req;
      req.set_proxy(std::string(kNodeId));
      req.set_type_url(std::string(xds::type_url::kEndpoint));
      req.add_resource_names(std::string(kCluster));
      req.set_names_only(true);
      v1::GetGeneratedResourcesResponse resp;
      REQUIRE(debug->GetGeneratedResources(&ctx, req, &resp).ok());
      CHECK_FALSE(resp.subscribed());
      CHECK_FALSE(resp.wildcard());
      REQUIRE(resp.resources_size() == 1);
      CHECK(resp.resources(0).name() == kCluster);
      CHECK(resp.resources(0).version().size() == 16);
      CHECK(resp.resources(0).size_bytes() > 0);
      CHECK_FALSE(resp.resources(0).has_resource());
    }
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::GetGeneratedResourcesRequest req;
      req.set_proxy(std::string(kNodeId));
      req.set_type_url("clusters");
      v1::GetGeneratedResourcesResponse resp;
      auto status = debug->GetGeneratedResources(&ctx, req, &resp);
      CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(status.error_message().find("use cds, eds, lds, rds, sds") != std::string::npos);
    }
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::GetGeneratedResourcesRequest req;
      req.set_proxy("nobody.nowhere");
      req.set_type_url("lds");
      v1::GetGeneratedResourcesResponse resp;
      CHECK(debug->GetGeneratedResources(&ctx, req, &resp).error_code() == grpc::StatusCode::NOT_FOUND);
    }
  }

  SUBCASE("GetPushStatus: generation, the skipped VirtualService with file and line, pushes, the NACK") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::PushStatus resp;
    REQUIRE(debug->GetPushStatus(&ctx, {}, &resp).ok());
    CHECK(resp.generation() == 1);
    CHECK(resp.generation_time().seconds() > 0);
    CHECK(resp.affected_types_size() == 0);  // the first snapshot is a full push
    CHECK(resp.connected_proxies() == 1);
    REQUIRE(resp.skipped_config_size() >= 1);
    const v1::SkippedConfig& s = resp.skipped_config(0);
    CHECK(s.severity() == v1::SkippedConfig::ERROR);
    CHECK(s.file() == "test.yaml");
    CHECK(s.line() == 18);
    CHECK(s.resource().find("VirtualService") != std::string::npos);
    CHECK(s.resource().find("broken") != std::string::npos);
    CHECK(s.field() == "spec.http[0].route[0].weight");
    CHECK(!s.message().empty());

    REQUIRE(resp.push_stats_size() == 2);
    CHECK(resp.push_stats(0).type_url() == xds::type_url::kCluster);
    CHECK(resp.push_stats(0).pushes() == 1);
    CHECK(resp.push_stats(0).nacks() == 1);
    CHECK(resp.push_stats(0).bytes() > 0);
    CHECK(resp.push_stats(1).type_url() == xds::type_url::kListener);
    CHECK(resp.push_stats(1).pushes() == 1);
    REQUIRE(resp.recent_pushes_size() == 2);
    CHECK(resp.recent_pushes(0).type_url() == xds::type_url::kListener);  // newest first
    REQUIRE(resp.recent_errors_size() == 1);
    CHECK(resp.recent_errors(0).kind() == v1::PushError::NACK);
    CHECK(resp.recent_errors(0).proxy_id() == kNodeId);
    CHECK(resp.recent_errors(0).message() == "cluster rejected by the test");
  }

  SUBCASE("GetVersion") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::VersionInfo resp;
    REQUIRE(debug->GetVersion(&ctx, {}, &resp).ok());
    CHECK(resp.version() == kVersion);
    CHECK(resp.git_revision() == gitRevision());
    CHECK(resp.meshd_instance() == "test-meshd");
    CHECK(!resp.grpc_version().empty());
    CHECK(resp.protobuf_version().starts_with("3."));
  }

  stream->WritesDone();
  DiscoveryResponse ignored;
  while (stream->Read(&ignored)) {
  }
  CHECK(stream->Finish().ok());
}

TEST_CASE("debug API: no snapshot yet is UNAVAILABLE, an empty proxy name INVALID_ARGUMENT") {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  server::AdsServer ads(generators, {}, {});
  PushHistory history;
  DebugService service(ads, generators, history, {});
  grpc::ServerContext ctx;
  envoy::admin::v3::ConfigDump dump;
  v1::GetConfigDumpRequest req;
  CHECK(service.GetConfigDump(&ctx, &req, &dump).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  req.set_proxy("client-1.payments");
  CHECK(service.GetConfigDump(&ctx, &req, &dump).error_code() == grpc::StatusCode::UNAVAILABLE);
  v1::PushStatus status;
  CHECK(service.GetPushStatus(&ctx, {}, &status).ok());
  CHECK(status.generation() == 0);
}

TEST_CASE("secrets in a config dump have private keys and passwords redacted, as Envoy's") {
  envoy::extensions::transport_sockets::tls::v3::Secret secret;
  secret.set_name("default");
  auto* cert = secret.mutable_tls_certificate();
  cert->mutable_certificate_chain()->set_inline_bytes("-----BEGIN CERTIFICATE-----");
  cert->mutable_private_key()->set_inline_bytes("-----BEGIN PRIVATE KEY-----");
  cert->mutable_password()->set_inline_string("hunter2");
  xds::XdsResources resources{xds::XdsResource::of("default", secret)};
  GeneratedType secrets{std::string(xds::type_url::kSecret), true, false, resources};
  server::PushContext push;
  push.snapshot = testing::snapshotFromYaml("");
  auto dump = buildConfigDump(testing::sidecarProxy("a", "ns"), push, std::span(&secrets, 1));
  REQUIRE(dump);
  REQUIRE(dump->configs_size() == 2);
  auto sds = unpack<envoy::admin::v3::SecretsConfigDump>(dump->configs(1));
  REQUIRE(sds.dynamic_active_secrets_size() == 1);
  CHECK(sds.dynamic_active_secrets(0).name() == "default");
  auto out = unpack<envoy::extensions::transport_sockets::tls::v3::Secret>(sds.dynamic_active_secrets(0).secret());
  CHECK(out.tls_certificate().certificate_chain().inline_bytes() == "-----BEGIN CERTIFICATE-----");
  CHECK(out.tls_certificate().private_key().inline_bytes() == "[redacted]");
  CHECK(out.tls_certificate().password().inline_string() == "[redacted]");
}

TEST_CASE("push history keeps counts and the newest entries, bounded") {
  PushHistory h;
  for (size_t i = 0; i < PushHistory::kCapacity + 10; ++i) h.recordPush(xds::type_url::kEndpoint, i, 0.001);
  h.recordPush(xds::type_url::kCluster, 7, 0.002);
  h.recordError(PushHistory::ErrorKind::Internal, "p1", xds::type_url::kRoute, "boom");
  PushHistory::View v = h.view();
  CHECK(v.types.at(std::string(xds::type_url::kEndpoint)).pushes == PushHistory::kCapacity + 10);
  CHECK(v.types.at(std::string(xds::type_url::kRoute)).errors == 1);
  CHECK(v.types.at(std::string(xds::type_url::kRoute)).pushes == 0);
  REQUIRE(v.pushes.size() == PushHistory::kCapacity);
  CHECK(v.pushes[0].typeUrl == xds::type_url::kCluster);
  CHECK(v.pushes[1].bytes == PushHistory::kCapacity + 9);
  REQUIRE(v.errors.size() == 1);
  CHECK(v.errors[0].message == "boom");
}

}  // namespace
}  // namespace mesh::debug

namespace mesh::debug {
namespace {

// The store's listing for `yaml`: every object at revision `revision`.
std::vector<core::StoredResource> listing(std::string_view yaml, uint64_t revision) {
  core::LoadResult loaded = core::loadBuffer("test.yaml", yaml, core::LoadOptions{});
  std::vector<core::StoredResource> out;
  for (auto& r : loaded.resources) out.push_back(core::StoredResource{std::move(r), revision});
  return out;
}

constexpr std::string_view kDestinationRule = R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: payments}
spec:
  host: payments-api.payments.svc.cluster.local
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 7}}}
)";

v1::Distribution distribution(v1::MeshDebug::Stub& debug, std::string kind, std::string name) {
  grpc::ClientContext ctx;
  setDeadline(ctx);
  v1::GetDistributionRequest req;
  req.set_group("networking.istio.io");
  req.set_kind(std::move(kind));
  req.set_namespace_("payments");
  req.set_name(std::move(name));
  v1::Distribution resp;
  grpc::Status status = debug.GetDistribution(&ctx, req, &resp);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return resp;
}

TEST_CASE("GetDistribution: an object's generation against what each proxy has ACKed") {
  Meshd meshd;
  // Generation 1 again, now with the table of which generation carried which object.
  std::shared_ptr<const server::ConfigGenerations> gen1 =
      server::ConfigGenerations::next(nullptr, listing(kMesh, 1), 1);
  auto push1 = std::make_shared<server::PushContext>();
  push1->snapshot = testing::snapshotFromYaml(kMesh, 1);
  push1->generations = gen1;
  meshd.ads->publish(push1);

  auto ads = AggregatedDiscoveryService::NewStub(meshd.channel(meshd.adsPort));
  auto debug = v1::MeshDebug::NewStub(meshd.channel(meshd.debugPort));
  grpc::ClientContext streamCtx;
  auto stream = ads->StreamAggregatedResources(&streamCtx);
  auto ackNext = [&](std::string_view type) {
    DiscoveryResponse resp;
    REQUIRE(stream->Read(&resp));
    REQUIRE(resp.type_url() == type);
    DiscoveryRequest ack = request(type, false);
    ack.set_response_nonce(resp.nonce());
    ack.set_version_info(resp.version_info());
    REQUIRE(stream->Write(ack));
    return resp;
  };
  REQUIRE(stream->Write(request(xds::type_url::kCluster, true)));
  ackNext(xds::type_url::kCluster);
  REQUIRE(stream->Write(request(xds::type_url::kListener, false)));
  DiscoveryResponse lds = ackNext(xds::type_url::kListener);
  meshd.waitFor([&](const server::ProxyStatus& p) {
    auto it = p.types.find(std::string(xds::type_url::kListener));
    return it != p.types.end() && it->second.ackedNonce == lds.nonce();
  });

  v1::Distribution se = distribution(*debug, "ServiceEntry", "payments");
  CHECK(se.exists());
  CHECK(se.generation() == 1);
  CHECK(se.current_generation() == 1);
  REQUIRE(se.proxies_size() == 1);
  CHECK(se.proxies(0).name() == "client-1.payments");
  CHECK(se.proxies(0).acked_generation() == 1);
  CHECK(se.proxies(0).distributed());

  // Invalid config never reaches anyone: the reason comes back with the answer.
  v1::Distribution broken = distribution(*debug, "VirtualService", "broken");
  REQUIRE(broken.invalid_size() >= 1);
  CHECK(broken.invalid(0).field().find("weight") != std::string::npos);

  v1::Distribution absent = distribution(*debug, "VirtualService", "nope");
  CHECK_FALSE(absent.exists());
  CHECK(absent.generation() == 0);

  // Generation 2 adds a DestinationRule: CDS changes and is in flight, then NACKed.
  std::string withRule = std::string(kMesh) + std::string(kDestinationRule);
  auto listed2 = listing(kMesh, 1);
  auto rule = listing(kDestinationRule, 3);
  listed2.insert(listed2.end(), rule.begin(), rule.end());
  auto push2 = std::make_shared<server::PushContext>();
  push2->snapshot = testing::snapshotFromYaml(withRule, 2);
  push2->generations = server::ConfigGenerations::next(gen1.get(), listed2, 2);
  push2->affectedTypes = {std::string(xds::type_url::kCluster)};
  meshd.ads->publish(push2);
  DiscoveryResponse cds;
  REQUIRE(stream->Read(&cds));
  REQUIRE(cds.type_url() == xds::type_url::kCluster);
  // LDS, which generation 2 does not change, is marked current on the stream's queue after
  // the CDS response goes out: wait for both.
  meshd.waitFor([&](const server::ProxyStatus& p) {
    return p.types.at(std::string(xds::type_url::kCluster)).sentNonce == cds.nonce() &&
           p.types.at(std::string(xds::type_url::kListener)).snapshotAcked == 2;
  });

  v1::Distribution dr = distribution(*debug, "DestinationRule", "payments");
  CHECK(dr.exists());
  CHECK(dr.generation() == 2);
  REQUIRE(dr.proxies_size() == 1);
  CHECK_FALSE(dr.proxies(0).distributed());
  REQUIRE(dr.proxies(0).lagging_size() == 1);
  CHECK(dr.proxies(0).lagging(0) == "CDS");
  // LDS was not affected: the proxy is current there without a response.
  CHECK(distribution(*debug, "ServiceEntry", "payments").proxies(0).distributed());

  DiscoveryRequest nack = request(xds::type_url::kCluster, false);
  nack.set_response_nonce(cds.nonce());
  nack.mutable_error_detail()->set_message("maxConnections refused by the test");
  REQUIRE(stream->Write(nack));
  meshd.waitFor([&](const server::ProxyStatus& p) {
    return !p.types.at(std::string(xds::type_url::kCluster)).nackMessage.empty();
  });
  dr = distribution(*debug, "DestinationRule", "payments");
  CHECK_FALSE(dr.proxies(0).distributed());
  REQUIRE(dr.proxies(0).lagging_size() == 1);
  CHECK(dr.proxies(0).lagging(0) == "CDS (NACK: maxConnections refused by the test)");

  // Generation 3 drops the rule again: CDS goes back to what the proxy holds, so a response
  // goes out; once ACKed, the deletion has reached the proxy.
  auto push3 = std::make_shared<server::PushContext>();
  push3->snapshot = testing::snapshotFromYaml(kMesh, 3);
  push3->generations = server::ConfigGenerations::next(push2->generations.get(), listing(kMesh, 1), 3);
  push3->affectedTypes = {std::string(xds::type_url::kCluster)};
  meshd.ads->publish(push3);
  DiscoveryResponse cds3 = ackNext(xds::type_url::kCluster);
  meshd.waitFor([&](const server::ProxyStatus& p) {
    return p.types.at(std::string(xds::type_url::kCluster)).ackedNonce == cds3.nonce();
  });
  dr = distribution(*debug, "DestinationRule", "payments");
  CHECK_FALSE(dr.exists());
  CHECK(dr.generation() == 3);
  CHECK(dr.proxies(0).distributed());
  CHECK(dr.proxies(0).acked_generation() == 3);
  streamCtx.TryCancel();
}

}  // namespace
}  // namespace mesh::debug
