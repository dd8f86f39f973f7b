#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("destinationrule.SubsetSelectPodAnalyzer: node topology, ServiceEntry selectors, unknown hosts") {
  auto found = runAnalyzer("destinationrule.SubsetSelectPodAnalyzer", R"(
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {topology.kubernetes.io/zone: z1, topology.istio.io/subzone: ""}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: web, labels: {app: web, version: v1}}
spec: {nodeName: node-a}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: web}
spec:
  hosts: [web.internal]
  workloadSelector: {labels: {app: web}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: web}
spec:
  host: web.internal
  subsets:
  - {name: zone, labels: {topology.kubernetes.io/zone: z1}}
  - {name: host, labels: {kubernetes.io/hostname: node-a}}
  - {name: other-zone, labels: {topology.kubernetes.io/zone: z2}}
  - {name: empty-subzone, labels: {topology.istio.io/subzone: ""}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hidden, namespace: elsewhere}
spec:
  host: private.internal
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private, namespace: web}
spec:
  hosts: [private.internal]
  exportTo: ["."]
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0173 DestinationRule web/web", "IST0173 DestinationRule web/web", "IST0173 DestinationRule web/web",
                "IST0174 DestinationRule elsewhere/hidden"});
  CHECK(found[0].text.starts_with("The Subset empty-subzone defined"));
  CHECK(found[1].text.starts_with("The Subset other-zone defined"));
  CHECK(found[2].text.starts_with("The Subset v2 defined"));
}
