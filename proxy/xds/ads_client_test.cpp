#include "proxy/xds/ads_client.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <thread>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "proxy/xds/snapshot_holder.h"
#include "proxy/xds/xds_test_resources.h"

namespace mesh::proxy {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// An ADS server that speaks only state of the world (delta is gRPC's UNIMPLEMENTED): a static
// cluster and a TCP listener, and a record of every request.
class SotwOnlyServer final : public AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext*, grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    DiscoveryRequest req;
    while (stream->Read(&req)) {
      {
        std::lock_guard lock(mu);
        requests.push_back(req);
      }
      if (!req.response_nonce().empty()) continue;  // an ACK or NACK
      DiscoveryResponse resp;
      resp.set_type_url(req.type_url());
      resp.set_version_info("1");
      if (req.type_url() == type_url::kCluster) resp.add_resources()->PackFrom(testing::staticCluster("s", 9000));
      else if (req.type_url() == type_url::kListener) resp.add_resources()->PackFrom(testing::tcpListener("l", 15001, "s"));
      else continue;
      resp.set_nonce(req.type_url() == type_url::kCluster ? "c1" : "l1");
      stream->Write(resp);
    }
    return grpc::Status::OK;
  }

  std::vector<DiscoveryRequest> seen() {
    std::lock_guard lock(mu);
    return requests;
  }

 private:
  std::mutex mu;
  std::vector<DiscoveryRequest> requests;
};

std::unique_ptr<grpc::Server> serve(SotwOnlyServer& service, std::string address, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

bool eventually(const std::function<bool()>& check) {
  for (int i = 0; i < 200; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("AdsClient falls back to state of the world, keeps its config while the server is away, resumes") {
  auto service = std::make_unique<SotwOnlyServer>();
  int port = 0;
  auto server = serve(*service, "127.0.0.1:0", &port);
  REQUIRE(server);
  REQUIRE(port > 0);

  SnapshotHolder holder;
  envoy::config::core::v3::Node node;
  node.set_id("router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local");
  AdsClientOptions options;
  options.address = fmt::format("127.0.0.1:{}", port);
  options.backoffBase = std::chrono::milliseconds(20);
  options.backoffMax = std::chrono::milliseconds(100);
  AdsClient client(options, node, holder);
  client.start();

  REQUIRE(eventually([&] { return client.initialized(); }));
  XdsStats stats = client.stats();
  CHECK(stats.streamKind == "sotw");
  CHECK(stats.connected);
  CHECK(holder.current()->clusters.contains("s"));
  CHECK(holder.current()->listeners.contains("l"));
  auto seen = service->seen();
  REQUIRE(!seen.empty());
  CHECK(seen[0].node().id() == node.id());
  CHECK(std::ranges::any_of(seen, [](const DiscoveryRequest& r) {
    return r.type_url() == type_url::kCluster && r.response_nonce() == "c1" && r.version_info() == "1" &&
           !r.has_error_detail();
  }));

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));  // cancels the stream
  server.reset();
  REQUIRE(eventually([&] { return !client.stats().connected; }));
  CHECK(client.initialized());
  CHECK(client.view().active->clusters.contains("s"));

  auto again = std::make_unique<SotwOnlyServer>();
  int samePort = 0;
  auto restarted = serve(*again, options.address, &samePort);
  REQUIRE(restarted);
  REQUIRE(eventually([&] { return client.stats().connected; }));
  auto resumed = again->seen();
  REQUIRE(!resumed.empty());
  // The new stream names the versions already held, CDS first, and asks for LDS at once.
  CHECK(resumed[0].type_url() == type_url::kCluster);
  CHECK(resumed[0].version_info() == "1");
  CHECK(resumed[0].response_nonce().empty());
  CHECK(std::ranges::any_of(resumed, [](const DiscoveryRequest& r) { return r.type_url() == type_url::kListener; }));
  CHECK(client.stats().streamsStarted >= 3);  // delta refused, SotW, SotW again

  client.stop();
  restarted->Shutdown(std::chrono::system_clock::now());
}

}  // namespace mesh::proxy
