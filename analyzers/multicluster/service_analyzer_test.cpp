#include <doctest/doctest.h>

#include "analyzers/multicluster/service_analyzer.h"
#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view kCluster1 = R"(
apiVersion: v1
kind: Service
metadata: {name: same, namespace: ns}
spec:
  ports: [{name: tcp-a, protocol: TCP, port: 80, targetPort: 8080}, {name: http-b, port: 81}]
---
apiVersion: v1
kind: Service
metadata: {name: extra-port, namespace: ns}
spec:
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: port-name, namespace: ns}
spec:
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: mixed-mode, namespace: ns}
spec:
  clusterIP: 1.2.3.4
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: mixed-type, namespace: ns}
spec:
  type: ClusterIP
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: only-here, namespace: ns}
)";

constexpr std::string_view kCluster2 = R"(
apiVersion: v1
kind: Service
metadata: {name: same, namespace: ns}
spec:
  ports: [{name: http-b, port: 81}, {name: tcp-a, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: extra-port, namespace: ns}
spec:
  ports: [{name: tcp-a, protocol: TCP, port: 80}, {name: tcp-b, protocol: TCP, port: 81}]
---
apiVersion: v1
kind: Service
metadata: {name: port-name, namespace: ns}
spec:
  ports: [{name: tcp-z, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: mixed-mode, namespace: ns}
spec:
  clusterIP: None
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: mixed-type, namespace: ns}
spec:
  type: NodePort
  ports: [{name: tcp-a, protocol: TCP, port: 80}]
)";

}  // namespace

TEST_CASE("services.MultiClusterServiceAnalyzer compares a Service across clusters") {
  auto one = snapshotOf(kCluster1);
  auto two = snapshotOf(kCluster2);
  std::vector<ClusterSnapshot> clusters = {{"cluster1", one.get()}, {"cluster2", two.get()}};
  Reporter reporter;
  analyzeMultiClusterServices(clusters, reporter);
  CHECK(linesOf(reporter.messages()) ==
        Strings{"IST0170 Service ns/extra-port", "IST0170 Service ns/mixed-mode",
                "IST0170 Service ns/mixed-type", "IST0170 Service ns/port-name"});
  for (const Message& m : reporter.messages())
    if (m.origin == "Service ns/mixed-mode")
      CHECK(m.text() ==
            "The service mixed-mode in namespace \"ns\" is inconsistent across clusters "
            "[\"cluster1\" \"cluster2\"], "
            "which can lead to undefined behaviors. The inconsistent behaviors are: service has "
            "mixed mode like "
            "headless and clusterIP.");
}

TEST_CASE("services.MultiClusterServiceAnalyzer finds nothing in one snapshot") {
  auto one = snapshotOf(kCluster1);
  CHECK(run("services.MultiClusterServiceAnalyzer", *one).empty());
  std::vector<ClusterSnapshot> single = {{"cluster1", one.get()}};
  Reporter reporter;
  analyzeMultiClusterServices(single, reporter);
  CHECK(reporter.messages().empty());
}
