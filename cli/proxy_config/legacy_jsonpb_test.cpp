#include "cli/proxy_config/legacy_jsonpb.h"

#include <doctest/doctest.h>

#include "cli/proxy_config/proto_json.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

using namespace mesh::cli::pc;

TEST_CASE("legacy jsonpb indents Struct entries one level too deep, as golang/protobuf does") {
  envoy::config::core::v3::Node node;
  node.set_id("proxy1");
  (*node.mutable_metadata()->mutable_fields())["B"].set_string_value("2");
  (*node.mutable_metadata()->mutable_fields())["A"].set_string_value("1");
  CHECK(legacyJsonpb(node, "    ") ==
        "{\n"
        "    \"id\": \"proxy1\",\n"
        "    \"metadata\": {\n"
        "            \"A\": \"1\",\n"
        "            \"B\": \"2\"\n"
        "        }\n"
        "}");
}

TEST_CASE("legacy jsonpb prints an empty message as an open line") {
  envoy::config::core::v3::Node node;
  CHECK(legacyJsonpb(node, "    ") == "{\n\n}");
}

TEST_CASE("protojson view: declaration order, 64-bit integers as strings, wrappers unwrapped") {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("c");
  cla.mutable_policy()->mutable_overprovisioning_factor()->set_value(140);
  auto* ep = cla.add_endpoints();
  ep->mutable_locality();
  ep->add_lb_endpoints()->mutable_load_balancing_weight()->set_value(1);
  JsonValue v = protoToJson(cla);
  CHECK(toIndentedJson(v, "", GoEscape::ProtoJson) ==
        "{\n\"clusterName\": \"c\",\n\"endpoints\": [\n{\n\"locality\": {},\n\"lbEndpoints\": [\n{\n"
        "\"loadBalancingWeight\": 1\n}\n]\n}\n],\n\"policy\": {\n\"overprovisioningFactor\": 140\n}\n}");
}

TEST_CASE("durations and timestamps use 0, 3, 6 or 9 fractional digits") {
  CHECK(formatDuration(0, 0) == "0s");
  CHECK(formatDuration(1, 500000000) == "1.500s");
  CHECK(formatDuration(0, -1000) == "-0.000001s");
  CHECK(formatTimestamp(1670497433, 361000000) == "2022-12-08T11:03:53.361Z");
  CHECK(formatTimestamp(0, 0) == "1970-01-01T00:00:00Z");
}
