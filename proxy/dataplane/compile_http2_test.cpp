// HTTP/2 config: codec_type and http2_protocol_options on the connection manager, upstream HTTP/2
// on clusters (the deprecated field and HttpProtocolOptions, as meshd sends it), Envoy's ranges.
#include <doctest/doctest.h>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

std::string hcmListener(const std::string& hcmFields) {
  return R"(name: "l" address { socket_address { address: "127.0.0.1" port_value: 8080 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "s" )" + hcmFields + R"(
        route_config { name: "r" virtual_hosts { name: "v" domains: ["*"] routes { match { prefix: "/" } route { cluster: "c" } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

const HttpConnectionManagerConfig& hcmOf(const Listener& l) {
  return std::get<HttpConnectionManagerConfig>(l.filterChains.at(0)->filter);
}

std::string staticCluster(const std::string& extra) {
  return R"(name: "c" type: STATIC )" + extra + R"( load_assignment { cluster_name: "c" endpoints { lb_endpoints {
      endpoint { address { socket_address { address: "127.0.0.1" port_value: 9000 } } } } } })";
}

}  // namespace

TEST_CASE("compiler: codec_type and http2_protocol_options on the connection manager") {
  auto automatic = compileListener(testing::parseListener(hcmListener("")));
  REQUIRE(automatic.has_value());
  CHECK(hcmOf(**automatic).codec == HttpConnectionManagerConfig::Codec::Auto);
  CHECK(hcmOf(**automatic).http2.maxConcurrentStreams == 100);

  auto h2 = compileListener(testing::parseListener(hcmListener(
      "codec_type: HTTP2 http2_protocol_options { max_concurrent_streams { value: 7 } "
      "initial_stream_window_size { value: 131072 } initial_connection_window_size { value: 262144 } }")));
  REQUIRE_MESSAGE(h2.has_value(), h2.error().message);
  const auto& hcm = hcmOf(**h2);
  CHECK(hcm.codec == HttpConnectionManagerConfig::Codec::Http2);
  CHECK(hcm.http2.maxConcurrentStreams == 7);
  CHECK(hcm.http2.initialStreamWindowSize == 131072);
  CHECK(hcm.http2.initialConnectionWindowSize == 262144);

  auto h1 = compileListener(testing::parseListener(hcmListener("codec_type: HTTP1")));
  REQUIRE(h1.has_value());
  CHECK(hcmOf(**h1).codec == HttpConnectionManagerConfig::Codec::Http1);

  auto h3 = compileListener(testing::parseListener(hcmListener("codec_type: HTTP3")));
  REQUIRE_FALSE(h3.has_value());
  CHECK(h3.error().message.find("codec_type") != std::string::npos);

  auto tiny = compileListener(testing::parseListener(hcmListener(
      "http2_protocol_options { initial_stream_window_size { value: 1000 } }")));
  REQUIRE_FALSE(tiny.has_value());
  CHECK(tiny.error().message.find("http2_protocol_options.initial_stream_window_size") != std::string::npos);
  auto none = compileListener(testing::parseListener(hcmListener(
      "http2_protocol_options { max_concurrent_streams { value: 0 } }")));
  REQUIRE_FALSE(none.has_value());
}

TEST_CASE("compiler: upstream HTTP/2 from HttpProtocolOptions or http2_protocol_options") {
  auto plain = compileCluster(testing::parseCluster(staticCluster("")), nullptr);
  REQUIRE(plain.has_value());
  CHECK_FALSE((*plain)->http2.has_value());

  // meshd's shape for gRPC and HTTP/2 ports (controlplane/xds/traffic_policy.cpp).
  auto ext = compileCluster(testing::parseCluster(staticCluster(R"(
      typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
          common_http_protocol_options { max_requests_per_connection { value: 50 } }
          explicit_http_config { http2_protocol_options { max_concurrent_streams { value: 20 } } } } } })")),
                            nullptr);
  REQUIRE_MESSAGE(ext.has_value(), ext.error().message);
  REQUIRE((*ext)->http2.has_value());
  CHECK((*ext)->http2->maxConcurrentStreams == 20);
  CHECK((*ext)->maxRequestsPerConnection == 50);

  auto legacy = compileCluster(testing::parseCluster(staticCluster("http2_protocol_options {}")), nullptr);
  REQUIRE(legacy.has_value());
  REQUIRE((*legacy)->http2.has_value());
  CHECK((*legacy)->http2->maxConcurrentStreams == 100);

  auto h1only = compileCluster(testing::parseCluster(staticCluster(R"(
      typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
          explicit_http_config { http_protocol_options {} } } } })")),
                               nullptr);
  REQUIRE(h1only.has_value());
  CHECK_FALSE((*h1only)->http2.has_value());

  auto bad = compileCluster(testing::parseCluster(staticCluster(R"(
      typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
          explicit_http_config { http2_protocol_options { initial_connection_window_size { value: 10 } } } } } })")),
                            nullptr);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("initial_connection_window_size") != std::string::npos);
}
