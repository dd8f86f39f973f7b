// CDS upstream protocol: a DestinationRule's connectionPool.http.useClientProtocol becomes
// HttpProtocolOptions' use_downstream_protocol_config on outbound clusters, as Istio's
// setUseDownstreamProtocol; HTTP/2 ports and h2UpgradePolicy keep explicit_http_config.
#include <doctest/doctest.h>

#include "controlplane/xds/cluster_test_support.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

using namespace mesh;

namespace {

constexpr const char* kMesh = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.shop.svc.cluster.local, rpc.shop.svc.cluster.local, plain.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}, {number: 9090, name: grpc, protocol: GRPC}]
  endpoints: [{address: 10.0.0.1}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop, namespace: shop}
spec:
  host: shop.shop.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp: {maxConnectionDuration: 30s}
      http: {useClientProtocol: true, maxRequestsPerConnection: 7, maxConcurrentStreams: 50}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rpc, namespace: shop}
spec:
  host: rpc.shop.svc.cluster.local
  trafficPolicy:
    connectionPool: {http: {useClientProtocol: false}}
    portLevelSettings:
    - port: {number: 8080}
      connectionPool: {http: {useClientProtocol: true}}
)";

std::map<std::string, envoy::config::cluster::v3::Cluster> clusters() { return mesh::xds::cds_test::sidecarClusters(kMesh); }

using mesh::xds::cds_test::httpOptions;

}  // namespace

TEST_CASE("cluster protocol: useClientProtocol → use_downstream_protocol_config, common options kept") {
  auto cs = clusters();
  for (std::string name : {"outbound|8080||shop.shop.svc.cluster.local", "outbound|9090||shop.shop.svc.cluster.local"}) {
    CAPTURE(name);
    auto http = httpOptions(cs.at(name));
    REQUIRE(http.has_value());
    // The gRPC port's explicit HTTP/2 and max_concurrent_streams give way, as in Istio.
    CHECK(http->has_use_downstream_protocol_config());
    CHECK_FALSE(http->has_explicit_http_config());
    CHECK(http->use_downstream_protocol_config().has_http_protocol_options());
    CHECK(http->use_downstream_protocol_config().has_http2_protocol_options());
    CHECK_FALSE(http->use_downstream_protocol_config().http2_protocol_options().has_max_concurrent_streams());
    CHECK(http->common_http_protocol_options().max_requests_per_connection().value() == 7);
    CHECK(http->common_http_protocol_options().max_connection_duration().seconds() == 30);
  }
}

TEST_CASE("cluster protocol: without useClientProtocol the port's protocol stays explicit") {
  auto cs = clusters();
  // The v2 subset's connection pool replaces the top level's: h2UpgradePolicy UPGRADE.
  for (std::string name : {"outbound|8080|v2|shop.shop.svc.cluster.local", "outbound|9090|v2|shop.shop.svc.cluster.local"}) {
    CAPTURE(name);
    auto v2 = httpOptions(cs.at(name));
    REQUIRE(v2.has_value());
    CHECK(v2->explicit_http_config().has_http2_protocol_options());
    CHECK_FALSE(v2->has_use_downstream_protocol_config());
  }
  auto rpcGrpc = httpOptions(cs.at("outbound|9090||rpc.shop.svc.cluster.local"));
  REQUIRE(rpcGrpc.has_value());
  CHECK(rpcGrpc->explicit_http_config().has_http2_protocol_options());
  CHECK_FALSE(rpcGrpc->has_use_downstream_protocol_config());
  // portLevelSettings apply per port.
  auto rpcHttp = httpOptions(cs.at("outbound|8080||rpc.shop.svc.cluster.local"));
  REQUIRE(rpcHttp.has_value());
  CHECK(rpcHttp->has_use_downstream_protocol_config());
  CHECK_FALSE(httpOptions(cs.at("outbound|8080||plain.shop.svc.cluster.local")).has_value());
}
