#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view kEntries = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tcp-ports, namespace: default}
spec:
  hosts: [db.example.com]
  ports: [{number: 5432, name: pg}, {number: 6379, name: redis, protocol: tcp}, {number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: with-addresses, namespace: default}
spec:
  hosts: [db2.example.com]
  addresses: [10.0.0.1]
  ports: [{number: 5432, name: pg, protocol: TCP}]
)";

}  // namespace

TEST_CASE("serviceentry.Analyzer: one message per TCP or unset port without addresses") {
  CHECK(codesAndOrigins(runAnalyzer("serviceentry.Analyzer", kEntries)) ==
        Strings{"IST0134 ServiceEntry default/tcp-ports", "IST0134 ServiceEntry default/tcp-ports"});
}

TEST_CASE("serviceentry.Analyzer: DNS capture with auto-allocation exempts every ServiceEntry") {
  auto mesh = [](const char* allocKey) {
    return nlohmann::json{{"defaultConfig", {{"proxyMetadata", {{"ISTIO_META_DNS_CAPTURE", "true"}, {allocKey, "true"}}}}}};
  };
  CHECK(runAnalyzer("serviceentry.Analyzer", kEntries, mesh("ISTIO_META_DNS_AUTO_ALLOCATE")).empty());
  CHECK(runAnalyzer("serviceentry.Analyzer", kEntries, mesh("PILOT_ENABLE_IP_AUTOALLOCATE")).empty());
  CHECK(runAnalyzer("serviceentry.Analyzer", kEntries, mesh("OTHER")).size() == 2);
}
