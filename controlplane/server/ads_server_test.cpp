// The ADS server over real gRPC on loopback: malformed streams get gRPC errors and do not
// disturb others, the stream limit holds, and both protocol variants answer.
#include "controlplane/server/ads_server.h"

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include "controlplane/testing/fixtures.h"

namespace mesh::server {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;

constexpr std::string_view kMesh = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: 9001}}]
)";

struct Server {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  std::unique_ptr<AdsServer> ads;
  std::unique_ptr<grpc::Server> grpc;
  int port = 0;

  explicit Server(size_t maxStreams = 100) {
    AdsServerOptions options;
    options.maxStreams = maxStreams;
    options.workerThreads = 2;
    ads = std::make_unique<AdsServer>(generators, options, AdsServerHooks{});
    auto push = std::make_shared<PushContext>();
    push->snapshot = testing::snapshotFromYaml(kMesh);
    ads->publish(push);
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(ads.get());
    grpc = b.BuildAndStart();
    REQUIRE(port != 0);
  }
  ~Server() { grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1)); }

  std::unique_ptr<AggregatedDiscoveryService::Stub> stub() const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per client
    return AggregatedDiscoveryService::NewStub(
        grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port), grpc::InsecureChannelCredentials(), args));
  }
};

DiscoveryRequest cdsRequest(bool withNode) {
  DiscoveryRequest r;
  r.set_type_url(std::string(xds::type_url::kCluster));
  if (withNode) r.mutable_node()->set_id("sidecar~10.0.0.1~client-1.payments~payments.svc.cluster.local");
  return r;
}

void setDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

TEST_CASE("ADS over gRPC: a good stream gets clusters; bad ones get errors, not a crash") {
  Server server;
  auto stub = server.stub();

  grpc::ClientContext good;
  setDeadline(good);
  auto stream = stub->StreamAggregatedResources(&good);
  REQUIRE(stream->Write(cdsRequest(true)));
  DiscoveryResponse resp;
  REQUIRE(stream->Read(&resp));
  CHECK(resp.type_url() == xds::type_url::kCluster);
  CHECK(resp.resources_size() >= 3);

  SUBCASE("no node on the first request") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    auto bad = stub->StreamAggregatedResources(&ctx);
    bad->Write(cdsRequest(false));
    bad->WritesDone();
    DiscoveryResponse ignored;
    while (bad->Read(&ignored)) {
    }
    auto status = bad->Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  SUBCASE("a node id that is not Istio's form") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    auto bad = stub->StreamAggregatedResources(&ctx);
    DiscoveryRequest r = cdsRequest(false);
    r.mutable_node()->set_id("just-a-name");
    bad->Write(r);
    bad->WritesDone();
    DiscoveryResponse ignored;
    while (bad->Read(&ignored)) {
    }
    auto status = bad->Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("TYPE~IP~NAME.NAMESPACE~DOMAIN") != std::string::npos);
  }
  SUBCASE("no type_url") {
    grpc::ClientContext ctx;
    setDeadline(ctx);
    auto bad = stub->StreamAggregatedResources(&ctx);
    DiscoveryRequest r = cdsRequest(true);
    r.clear_type_url();
    bad->Write(r);
    bad->WritesDone();
    DiscoveryResponse ignored;
    while (bad->Read(&ignored)) {
    }
    CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  // The good stream still works: ACK it and see the server recorded the ACK.
  DiscoveryRequest ack = cdsRequest(false);
  ack.set_response_nonce(resp.nonce());
  ack.set_version_info(resp.version_info());
  REQUIRE(stream->Write(ack));
  for (int i = 0; i < 100; ++i) {
    auto proxies = server.ads->proxies();
    if (!proxies.empty() && proxies[0].types[std::string(xds::type_url::kCluster)].ackedNonce == resp.nonce()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto proxies = server.ads->proxies();
  REQUIRE(proxies.size() == 1);
  CHECK(proxies[0].name == "client-1.payments");
  CHECK(proxies[0].types[std::string(xds::type_url::kCluster)].ackedNonce == resp.nonce());
  stream->WritesDone();
  CHECK(stream->Finish().ok());
}

TEST_CASE("ADS over gRPC: streams beyond the limit get RESOURCE_EXHAUSTED") {
  Server server(1);
  auto stub = server.stub();
  grpc::ClientContext first;
  setDeadline(first);
  auto s1 = stub->StreamAggregatedResources(&first);
  REQUIRE(s1->Write(cdsRequest(true)));
  DiscoveryResponse resp;
  REQUIRE(s1->Read(&resp));

  grpc::ClientContext second;
  setDeadline(second);
  auto s2 = stub->StreamAggregatedResources(&second);
  s2->Write(cdsRequest(true));
  s2->WritesDone();
  while (s2->Read(&resp)) {
  }
  CHECK(s2->Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  s1->WritesDone();
  while (s1->Read(&resp)) {
  }
  CHECK(s1->Finish().ok());
}

TEST_CASE("ADS over gRPC: delta wildcard CDS") {
  Server server;
  auto stub = server.stub();
  grpc::ClientContext ctx;
  setDeadline(ctx);
  auto stream = stub->DeltaAggregatedResources(&ctx);
  DeltaDiscoveryRequest r;
  r.set_type_url(std::string(xds::type_url::kCluster));
  r.mutable_node()->set_id("sidecar~10.0.0.1~client-1.payments~payments.svc.cluster.local");
  REQUIRE(stream->Write(r));
  DeltaDiscoveryResponse resp;
  REQUIRE(stream->Read(&resp));
  bool found = false;
  for (const auto& res : resp.resources())
    found |= res.name() == "outbound|8080||payments-api.payments.svc.cluster.local";
  CHECK(found);
  CHECK(!resp.nonce().empty());
  stream->WritesDone();
  while (stream->Read(&resp)) {
  }
  CHECK(stream->Finish().ok());
}

}  // namespace
}  // namespace mesh::server
