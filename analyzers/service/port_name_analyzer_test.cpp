#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("service.PortNameAnalyzer: protocol from appProtocol, name prefix or well-known port") {
  auto texts = workload_testing::texts("service.PortNameAnalyzer", R"(
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns}
spec:
  ports:
  - {name: http-web, port: 80}
  - {name: GRPC-Web-x, port: 81}
  - {name: web, port: 82, appProtocol: http}
  - {name: web2, port: 83, appProtocol: kubernetes.io/h2c}
  - {name: dns, port: 53}
  - {name: stream, port: 84, protocol: UDP}
  - {name: web3, port: 85, targetPort: web}
  - {name: http, port: 86, appProtocol: custom}
)");
  CHECK(texts == Strings{"Port name web3 (port: 85, targetPort: web) doesn't follow the naming "
                         "convention of Istio port.",
                         "Port name http (port: 86, targetPort: 0) doesn't follow the naming "
                         "convention of Istio port."});
}

TEST_CASE("service.PortNameAnalyzer: skips the control plane and gateway-managed Services") {
  auto found = run("service.PortNameAnalyzer", R"(
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system, labels: {istio: pilot}}
spec: {ports: [{name: grpc-xds, port: 15010}, {name: weird, port: 1}]}
---
apiVersion: v1
kind: Service
metadata: {name: gw, namespace: ns, labels: {gateway.istio.io/managed: istio.io-gateway-controller}}
spec: {ports: [{name: weird, port: 1}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: ns}
spec: {type: ExternalName, ports: [{name: tcp, port: 1}, {name: tcp-db, port: 2}]}
)");
  CHECK(found == Strings{"IST0150 Service ns/ext"});
}
