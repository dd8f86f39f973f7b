// Localities as Istio's registries compute them: pods by istio-locality label or their Node's
// topology labels, WorkloadEntries by their locality field; and a proxy's own.
#include <doctest/doctest.h>

#include "controlplane/model/locality.h"
#include "controlplane/testing/fixtures.h"

using namespace mesh;

TEST_CASE("Locality parses and prints as Istio's SplitLocalityLabel and LocalityToString") {
  auto l = model::Locality::parse("us-east/us-east-1a/rack7");
  CHECK(l == model::Locality{"us-east", "us-east-1a", "rack7"});
  CHECK(l.str() == "us-east/us-east-1a/rack7");
  CHECK(model::Locality::parse("us-east").str() == "us-east");
  CHECK(model::Locality::parse("r/z/").str() == "r/z");
  CHECK(model::Locality::parse("").empty());
}

TEST_CASE("pod endpoints take the istio-locality label, else their Node's topology labels") {
  auto snap = testing::snapshotFromYaml(R"(apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-1, topology.istio.io/subzone: s1}
---
apiVersion: v1
kind: Node
metadata:
  name: node-b
  labels: {failure-domain.beta.kubernetes.io/region: us, failure-domain.beta.kubernetes.io/zone: us-2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-a, namespace: shop, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web, image: web}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-b, namespace: shop, labels: {app: web}}
spec: {nodeName: node-b, containers: [{name: web, image: web}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: web-c, namespace: shop, labels: {app: web, istio-locality: ap.ap-3.x}}
spec: {nodeName: node-a, containers: [{name: web, image: web}]}
status: {podIP: 10.0.0.3}
)");
  const model::Service* svc = snap->service("web.shop.svc.cluster.local", "shop");
  REQUIRE(svc);
  auto eps = snap->registry().endpoints(*svc, 80);
  REQUIRE(eps.size() == 3);
  CHECK(eps[0].locality == "eu/eu-1/s1");
  CHECK(eps[1].locality == "us/us-2");
  CHECK(eps[2].locality == "ap/ap-3/x");

  auto localities = model::WorkloadLocalities::build(*snap);
  CHECK(localities.proxyLocality(testing::sidecarProxy("web-a", "shop")).str() == "eu/eu-1/s1");
  // Found by its IP when the node id names no known workload.
  CHECK(localities.proxyLocality(testing::sidecarProxy("other", "shop", {}, "10.0.0.2")).str() == "us/us-2");
}

TEST_CASE("a proxy's locality: its WorkloadEntry's, else its labels, else node.locality") {
  auto snap = testing::snapshotFromYaml(R"(apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: shop}
spec: {address: 127.0.0.1, locality: r1/z1}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-2, namespace: shop}
spec: {address: 127.0.0.1, locality: r2/z2}
)");
  auto localities = model::WorkloadLocalities::build(*snap);
  CHECK(localities.proxyLocality(testing::sidecarProxy("vm-1", "shop")).str() == "r1/z1");
  CHECK(localities.proxyLocality(testing::sidecarProxy("vm-2", "shop")).str() == "r2/z2");
  // 127.0.0.1 is shared by both: an IP says nothing; labels, then node.locality decide.
  CHECK(localities.proxyLocality(testing::sidecarProxy("vm-3", "shop")).empty());
  CHECK(localities.proxyLocality(testing::sidecarProxy("vm-3", "shop", {{"topology.kubernetes.io/region", "r9"}}))
            .str() == "r9");
  model::NodeInfo node;
  node.id = "sidecar~127.0.0.1~vm-3.shop~shop.svc.cluster.local";
  node.locality = "r5/z5/s5";
  CHECK(localities.proxyLocality(*model::Proxy::fromNode(node)).str() == "r5/z5/s5");
}
