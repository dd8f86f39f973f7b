#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("deployment.MultiServiceAnalyzer: only in-mesh Deployments, texts as Istio's") {
  constexpr std::string_view kServices = R"(
apiVersion: v1
kind: Service
metadata: {name: tcp, namespace: ns}
spec: {selector: {app: a}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: udp, namespace: ns}
spec: {selector: {app: a}, ports: [{port: 80, protocol: UDP, targetPort: 8080}]}
)";
  auto texts =
      workload_testing::texts("deployment.MultiServiceAnalyzer", std::string(kServices) + R"(
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: meshed, namespace: ns}
spec:
  template:
    metadata: {labels: {app: a, sidecar.istio.io/inject: "true"}}
)");
  CHECK(
      texts ==
      Strings{
          "This deployment meshed is associated with multiple services using port 80 but different "
          "protocols: [ns/tcp ns/udp]"});
  auto found = run("deployment.MultiServiceAnalyzer", std::string(kServices) + R"(
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: outside, namespace: ns}
spec:
  template:
    metadata: {labels: {app: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: waypoint, namespace: ns, labels: {gateway.istio.io/managed: istio.io-mesh-controller}}
spec:
  template:
    metadata: {labels: {app: a, sidecar.istio.io/inject: "true"}}
)");
  CHECK(found.empty());
  auto ports = workload_testing::texts("deployment.MultiServiceAnalyzer", R"(
apiVersion: v1
kind: Namespace
metadata: {name: ns, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: one, namespace: ns}
spec: {selector: {app: a}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: two, namespace: ns}
spec: {selector: {app: a}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns}
spec:
  template:
    metadata: {labels: {app: a}}
)");
  CHECK(
      ports ==
      Strings{
          "This deployment d is associated with multiple services [ns/one ns/two] using targetPort "
          "\"8080\" but different ports: [80 8080]."});
}

TEST_CASE("applicationUID.Analyzer: proxy and control-plane containers are exempt") {
  auto found = run("applicationUID.Analyzer", R"(
apiVersion: v1
kind: Pod
metadata: {name: proxy-only, namespace: ns}
spec:
  containers: [{name: istio-proxy, securityContext: {runAsUser: 1337}}]
---
apiVersion: v1
kind: Pod
metadata: {name: istiod, namespace: istio-system, labels: {istio: pilot}}
spec:
  securityContext: {runAsUser: 1337}
---
apiVersion: v1
kind: Pod
metadata: {name: twice, namespace: ns}
spec:
  securityContext: {runAsUser: 1337}
  containers: [{name: app, securityContext: {runAsUser: 1337}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other-uid, namespace: ns}
spec:
  template:
    spec: {containers: [{name: app, securityContext: {runAsUser: 1000}}]}
)");
  CHECK(found == Strings{"IST0144 Pod ns/twice"});
}
