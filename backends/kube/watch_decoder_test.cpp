// The watch stream decoder under every chunking, its limits; and the small codecs beside it:
// base64, bounded JSON, resourceVersion comparison, what the store keeps of an object.
#include "backends/kube/watch_decoder.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "backends/kube/codec.h"
#include "backends/kube/kube_object.h"
#include "core/yaml/convert.h"

namespace mesh::backends::kube {
namespace {

const std::string kStream =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"5\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"resourceVersion\":"
    "\"9\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"10\"}}}\r\n"
    "\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n";

TEST_CASE("watch decoder: the same events whatever the chunking") {
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, kStream.size()}) {
    CAPTURE(chunk);
    WatchDecoder d;
    std::vector<std::string> seen;
    auto onEvent = [&](WatchEvent&& e) {
      seen.push_back(fmt::format("{} {}", watchEventTypeName(e.type),
                                 e.object["metadata"].is_object()
                                     ? e.object["metadata"].value("resourceVersion", "")
                                     : e.object.value("reason", "")));
    };
    for (size_t i = 0; i < kStream.size(); i += chunk)
      REQUIRE(d.feed(std::string_view(kStream).substr(i, chunk), onEvent));
    REQUIRE(d.finish(onEvent));
    CHECK(seen == std::vector<std::string>{"ADDED 5", "BOOKMARK 9", "DELETED 10", "ERROR Expired"});
  }
}

TEST_CASE("watch decoder: an unterminated last line, bad lines and oversized lines") {
  WatchDecoder d;
  int n = 0;
  auto count = [&](WatchEvent&&) { ++n; };
  REQUIRE(d.feed(R"({"type":"MODIFIED","object":{"kind":"X"}})", count));
  CHECK(n == 0);
  REQUIRE(d.finish(count));
  CHECK(n == 1);

  WatchDecoder bad;
  auto r = bad.feed("{\"type\":\"SOMETHING\",\"object\":{}}\n", count);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "a watch event has an unknown type \"SOMETHING\"");
  CHECK_FALSE(bad.feed("{\"type\":\"ADDED\",\"object\":{}}\n", count));  // stays failed

  WatchDecoder small(64);
  auto big = small.feed(std::string(100, ' '), count);
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("larger than the limit") != std::string::npos);
}

TEST_CASE("codec: base64 as Go's StdEncoding, bounded JSON") {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    CHECK(base64Decode(base64Encode(s)) == s);
  CHECK(base64Encode("CA") == "Q0E=");
  CHECK(base64Decode("Q0VS\nVC1Q\r\nRU0=") == std::optional<std::string>("CERT-PEM"));
  CHECK_FALSE(base64Decode("Q0E"));
  CHECK_FALSE(base64Decode("Q=E="));
  CHECK_FALSE(base64Decode("Q0E*"));

  std::string deep(300, '[');
  deep += std::string(300, ']');
  auto tooDeep = parseJson(deep, "a response");
  REQUIRE_FALSE(tooDeep);
  CHECK(tooDeep.error().message == "a response nests deeper than 256 levels");
  auto broken = parseJson(R"({"token": "s3cret)", "a response");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message.find("s3cret") == std::string::npos);
  CHECK(parseJson(R"({"a": [1, {"b": 2}]})", "x")->at("a")[1]["b"] == 2);
}

TEST_CASE(
    "objects: resourceVersions compare as integers when both are; server metadata is dropped") {
  CHECK(compareResourceVersions("9", "10") == -1);
  CHECK(compareResourceVersions("10", "10") == 0);
  CHECK(compareResourceVersions("123", "99") == 1);
  CHECK_FALSE(compareResourceVersions("abc", "10"));
  CHECK_FALSE(compareResourceVersions("010", "10"));
  CHECK_FALSE(compareResourceVersions("", "10"));

  ResourceBatch batch;
  core::Resource r = batch.add(nlohmann::json::parse(R"({
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
    "metadata": {"name": "r", "namespace": "d", "uid": "u-1", "resourceVersion": "7", "generation": 2,
                 "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [{"manager": "m"}],
                 "labels": {"app": "r"}},
    "spec": {"hosts": ["r"]}})"));
  core::Resource ns = batch.add(nlohmann::json::parse(
      R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}})"));
  CHECK(batch.size() == 2);
  CHECK(r.name() == "r");
  CHECK(r.namespace_() == "d");
  CHECK(r.label("app") == "r");
  CHECK(r.info() != nullptr);
  CHECK(r.file().empty());
  CHECK(ns.namespace_().empty());
  CHECK(resourceToJson(r) == nlohmann::json::parse(R"({
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
    "metadata": {"name": "r", "namespace": "d", "labels": {"app": "r"}}, "spec": {"hosts": ["r"]}})"));
}

}  // namespace
}  // namespace mesh::backends::kube
