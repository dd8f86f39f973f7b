// Checks that the generated Envoy v3 API is usable the way meshd, meshproxy and meshctl use
// it: Any packing with Envoy's type URLs, proto3 JSON round trips (as in config dumps), and
// the ADS gRPC stub.
#include <doctest/doctest.h>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <type_traits>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace {

namespace hcm_v3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace listener_v3 = envoy::config::listener::v3;
namespace discovery_v3 = envoy::service::discovery::v3;
namespace jwt_v3 = envoy::extensions::filters::http::jwt_authn::v3;
using google::protobuf::util::MessageDifferencer;

// An outbound listener shaped like the one meshd sends a sidecar on Istio's port 15001.
listener_v3::Listener outboundListener() {
  listener_v3::Listener listener;
  listener.set_name("virtualOutbound");
  auto* socket = listener.mutable_address()->mutable_socket_address();
  socket->set_address("0.0.0.0");
  socket->set_port_value(15001);

  hcm_v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix("outbound_0.0.0.0_15001");
  hcm.mutable_rds()->set_route_config_name("15001");
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return listener;
}

// proto3 JSON both ways; Any values are resolved through the generated descriptor pool.
template <typename Message>
Message jsonRoundTrip(const Message& in, std::string& json) {
  json.clear();
  const auto printed = google::protobuf::util::MessageToJsonString(in, &json);
  REQUIRE_MESSAGE(printed.ok(), printed.ToString());
  Message out;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &out);
  REQUIRE_MESSAGE(parsed.ok(), parsed.ToString());
  return out;
}

}  // namespace

TEST_CASE("Listener packs into Any with Envoy's type URL and survives JSON") {
  const auto listener = outboundListener();

  google::protobuf::Any any;
  REQUIRE(any.PackFrom(listener));
  CHECK(any.type_url() == "type.googleapis.com/envoy.config.listener.v3.Listener");

  listener_v3::Listener unpacked;
  REQUIRE(any.UnpackTo(&unpacked));
  CHECK(MessageDifferencer::Equals(listener, unpacked));

  // The Any inside (the HCM typed_config) must resolve, or printing fails.
  std::string json;
  const auto back = jsonRoundTrip(any, json);
  CHECK(json.find("\"@type\":\"type.googleapis.com/envoy.extensions.filters.network."
                  "http_connection_manager.v3.HttpConnectionManager\"") != std::string::npos);
  CHECK(json.find("\"portValue\":15001") != std::string::npos);
  CHECK(MessageDifferencer::Equals(any, back));

  listener_v3::Listener fromAny;
  REQUIRE(back.UnpackTo(&fromAny));
  CHECK(MessageDifferencer::Equals(listener, fromAny));
  hcm_v3::HttpConnectionManager hcm;
  REQUIRE(fromAny.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  CHECK(hcm.rds().route_config_name() == "15001");
}

TEST_CASE("DiscoveryRequest and DiscoveryResponse round-trip") {
  discovery_v3::DiscoveryRequest request;
  request.set_version_info("1");
  request.set_type_url("type.googleapis.com/envoy.config.listener.v3.Listener");
  request.set_response_nonce("nonce-1");
  request.add_resource_names("virtualOutbound");
  request.mutable_node()->set_id("sidecar~10.0.0.1~app.default~default.svc.cluster.local");
  request.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT, as in a NACK
  request.mutable_error_detail()->set_message("rejected");

  std::string json;
  CHECK(MessageDifferencer::Equals(request, jsonRoundTrip(request, json)));
  discovery_v3::DiscoveryRequest fromWire;
  REQUIRE(fromWire.ParseFromString(request.SerializeAsString()));
  CHECK(MessageDifferencer::Equals(request, fromWire));

  discovery_v3::DiscoveryResponse response;
  response.set_version_info("2");
  response.set_type_url(request.type_url());
  response.set_nonce("nonce-2");
  response.add_resources()->PackFrom(outboundListener());
  CHECK(MessageDifferencer::Equals(response, jsonRoundTrip(response, json)));
  discovery_v3::DiscoveryResponse responseFromWire;
  REQUIRE(responseFromWire.ParseFromString(response.SerializeAsString()));
  CHECK(MessageDifferencer::Equals(response, responseFromWire));
}

TEST_CASE("ADS client stub is generated") {
  using Ads = discovery_v3::AggregatedDiscoveryService;
  // A lazy channel: nothing connects until an RPC is started, so no server is needed.
  auto channel = grpc::CreateChannel("127.0.0.1:15010", grpc::InsecureChannelCredentials());
  std::unique_ptr<Ads::Stub> stub = Ads::NewStub(channel);
  CHECK(stub != nullptr);
  static_assert(std::is_base_of_v<grpc::Service, Ads::Service>);
}

TEST_CASE("jwt_authn `requires` is reachable from C++23 as requires_()") {
  // The build renames protoc 3.21's bare `requires()` accessor (a C++20 keyword) only;
  // mutable_requires() and friends keep their names. The proto field and JSON name stay.
  jwt_v3::JwtAuthentication authn;
  auto* rule = authn.add_rules();
  rule->mutable_match()->set_prefix("/");
  rule->mutable_requires()->set_provider_name("origins-0");
  (*authn.mutable_providers())["origins-0"].set_issuer("https://issuer.example");

  std::string json;
  const auto back = jsonRoundTrip(authn, json);
  CHECK(json.find("\"requires\":{\"providerName\":\"origins-0\"}") != std::string::npos);
  CHECK(back.rules(0).requires_().provider_name() == "origins-0");
  CHECK(MessageDifferencer::Equals(authn, back));
}
