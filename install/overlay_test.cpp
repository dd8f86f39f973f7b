#include "install/overlay.h"

#include <doctest/doctest.h>

using mesh::install::mergeOverlay;
using nlohmann::json;

TEST_CASE("maps merge, lists replace, null removes") {
  json base = json::parse(R"({"spec": {"meshConfig": {"a": 1, "b": {"c": 2, "d": 3}},
                                        "values": {"global": {"imagePullSecrets": ["x", "y"]}}}})");
  mergeOverlay(base, json::parse(R"({"spec": {"meshConfig": {"b": {"c": 20, "d": null}, "e": {"f": null, "g": 1}},
                                              "values": {"global": {"imagePullSecrets": ["z"]}}}})"));
  CHECK(base["spec"]["meshConfig"] == json::parse(R"({"a": 1, "b": {"c": 20}, "e": {"g": 1}})"));
  CHECK(base["spec"]["values"]["global"]["imagePullSecrets"] == json::parse(R"(["z"])"));
}

TEST_CASE("gateway lists merge by name, as istioctl's strategic merge does") {
  json base = json::parse(R"({"spec": {"components": {"ingressGateways": [
      {"name": "istio-ingressgateway", "enabled": true, "k8s": {"resources": {"requests": {"cpu": "100m"}}}},
      {"name": "other", "enabled": true}]}}})");
  mergeOverlay(base, json::parse(R"({"spec": {"components": {"ingressGateways": [
      {"name": "istio-ingressgateway", "k8s": {"replicaCount": 3}},
      {"name": "new", "enabled": true, "k8s": {"env": null}}]}}})"));
  const json& gws = base["spec"]["components"]["ingressGateways"];
  REQUIRE(gws.size() == 3);
  CHECK(gws[0] == json::parse(R"({"name": "istio-ingressgateway", "enabled": true,
                                  "k8s": {"replicaCount": 3, "resources": {"requests": {"cpu": "100m"}}}})"));
  CHECK(gws[1]["name"] == "other");
  CHECK(gws[2] == json::parse(R"({"name": "new", "enabled": true, "k8s": {}})"));
  // Lists inside a merged item are still replaced.
  mergeOverlay(base, json::parse(R"({"spec": {"components": {"ingressGateways": [
      {"name": "other", "k8s": {"tolerations": [{"key": "a"}]}}]}}})"));
  mergeOverlay(base, json::parse(R"({"spec": {"components": {"ingressGateways": [
      {"name": "other", "k8s": {"tolerations": [{"key": "b"}]}}]}}})"));
  CHECK(base["spec"]["components"]["ingressGateways"][1]["k8s"]["tolerations"] == json::parse(R"([{"key": "b"}])"));
}
