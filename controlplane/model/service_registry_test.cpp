#include "controlplane/model/service_registry.h"

#include <doctest/doctest.h>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"

namespace mesh::model {
namespace {

TEST_CASE("protocols: appProtocol first, then the port name's prefix") {
  CHECK(protocolOfKubePort("http-web", "") == Protocol::Http);
  CHECK(protocolOfKubePort("grpc", "") == Protocol::Grpc);
  CHECK(protocolOfKubePort("grpc-web", "") == Protocol::GrpcWeb);
  CHECK(protocolOfKubePort("HTTP2", "") == Protocol::Http2);
  CHECK(protocolOfKubePort("tcp-db", "") == Protocol::Tcp);
  CHECK(protocolOfKubePort("web", "") == Protocol::Unsupported);
  CHECK(protocolOfKubePort("web", "kubernetes.io/h2c") == Protocol::Http2);
  CHECK(protocolOfKubePort("tcp", "http") == Protocol::Http);
  CHECK(protocolOfName("TLS") == Protocol::Tls);
}

constexpr std::string_view kKube = R"(
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  clusterIP: 10.0.0.7
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080, targetPort: web}
  - {name: metrics, port: 9090, appProtocol: http}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-1, namespace: shop, labels: {app: reviews, version: v1, istio-locality: eu-west.eu-west-1a}}
spec:
  serviceAccountName: reviews
  containers: [{name: app, image: x, ports: [{name: web, containerPort: 8080}]}]
status: {phase: Running, podIP: 10.1.0.5, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-2, namespace: shop, labels: {app: reviews, version: v2}}
spec:
  containers: [{name: app, image: x, ports: [{name: web, containerPort: 8080}]}]
status: {phase: Running, podIP: 10.1.0.6, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: unscheduled, namespace: shop, labels: {app: reviews}}
spec:
  containers: [{name: app, image: x}]
)";

TEST_CASE("Kubernetes Service + Pods: FQDN, protocols, named target ports, readiness, locality") {
  auto snap = testing::snapshotFromYaml(kKube);
  const auto& reg = snap->registry();
  const Service* svc = reg.lookup("reviews.shop.svc.cluster.local", "shop");
  REQUIRE(svc != nullptr);
  CHECK(svc->address == "10.0.0.7");
  REQUIRE(svc->ports.size() == 2);
  CHECK(svc->ports[0].protocol == Protocol::Http);
  CHECK(svc->ports[1].protocol == Protocol::Http);
  auto eps = reg.endpoints(*svc, 9080);
  REQUIRE(eps.size() == 2);  // the pod without an IP is not an endpoint
  CHECK(eps[0].address == "10.1.0.5");
  CHECK(eps[0].port == 8080);
  CHECK(eps[0].serviceAccount == "reviews");
  CHECK(eps[0].locality == "eu-west/eu-west-1a");
  CHECK(eps[0].healthy);
  CHECK_FALSE(eps[1].healthy);
  CHECK(eps[1].serviceAccount == "default");
  // No targetPort: the service port.
  CHECK(reg.endpoints(*svc, 9090)[0].port == 9090);
}

TEST_CASE("EndpointSlices replace pod selection for their Service") {
  std::string yaml = std::string(kKube) + R"(
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-abc, namespace: shop, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [10.9.9.9]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-1}
)";
  auto snap = testing::snapshotFromYaml(yaml);
  const Service* svc = snap->registry().lookup("reviews.shop.svc.cluster.local", "shop");
  REQUIRE(svc != nullptr);
  auto eps = snap->registry().endpoints(*svc, 9080);
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].address == "10.9.9.9");
  CHECK(eps[0].labels.at("version") == "v1");  // labels from the referenced pod
  CHECK(snap->registry().endpoints(*svc, 9090).empty());
}

TEST_CASE("a Service declared by several clusters is one service with every cluster's endpoints") {
  // What the multi-cluster store lists: the primary's objects first, then a remote cluster's,
  // with the same keys for the Service both declare.
  auto snap = testing::snapshotFromYaml(R"(
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: shop}
spec:
  selector: {app: ledger}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: shop}
spec:
  selector: {app: ledger}
  ports: [{name: http, port: 8080}, {name: grpc, port: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ledger-primary, namespace: shop, labels: {kubernetes.io/service-name: ledger}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.1.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ledger-remote, namespace: shop, labels: {kubernetes.io/service-name: ledger}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: grpc, port: 9000}]
endpoints: [{addresses: [10.2.0.1]}]
---
apiVersion: v1
kind: Service
metadata: {name: audit, namespace: shop}
spec:
  selector: {app: audit}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: audit, namespace: shop}
spec:
  selector: {app: audit}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: audit-0, namespace: shop, labels: {app: audit}}
status: {phase: Running, podIP: 10.1.0.9}
---
apiVersion: v1
kind: Pod
metadata: {name: audit-0, namespace: shop, labels: {app: audit}}
status: {phase: Running, podIP: 10.2.0.9}
)");
  const auto& reg = snap->registry();
  REQUIRE(reg.byHost("ledger.shop.svc.cluster.local").size() == 1);
  const Service* ledger = reg.lookup("ledger.shop.svc.cluster.local", "shop");
  REQUIRE(ledger != nullptr);
  REQUIRE(ledger->ports.size() == 1);  // the first declaration's ports
  auto eps = reg.endpoints(*ledger, 8080);
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].address == "10.1.0.1");
  CHECK(eps[1].address == "10.2.0.1");
  REQUIRE(reg.byHost("audit.shop.svc.cluster.local").size() == 1);
  const Service* audit = reg.lookup("audit.shop.svc.cluster.local", "shop");
  REQUIRE(audit != nullptr);
  auto pods = reg.endpoints(*audit, 80);
  REQUIRE(pods.size() == 2);
  CHECK(pods[0].address == "10.1.0.9");
  CHECK(pods[1].address == "10.2.0.9");
  CHECK(pods[1].port == 8080);
}

constexpr std::string_view kLocal = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  exportTo: [".", orders]
  ports: [{number: 8080, name: http, protocol: HTTP, targetPort: 9000}]
  workloadSelector: {labels: {app: payments-api}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v1, namespace: payments}
spec: {address: 127.0.0.1, labels: {app: payments-api, version: v1}, ports: {http: 18081}, locality: r1/z1, weight: 3}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v2, namespace: payments}
spec: {address: 127.0.0.2, labels: {app: payments-api, version: v2}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: payments}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
)";

TEST_CASE("ServiceEntry + WorkloadEntries (local mode): ports map, targetPort, exportTo, DNS host endpoint") {
  auto snap = testing::snapshotFromYaml(kLocal);
  const auto& reg = snap->registry();
  const Service* svc = reg.lookup("payments-api.payments.svc.cluster.local", "payments");
  REQUIRE(svc != nullptr);
  auto eps = reg.endpoints(*svc, 8080);
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].port == 18081);  // the WorkloadEntry's ports map wins
  CHECK(eps[0].locality == "r1/z1");
  CHECK(eps[0].weight == 3);
  CHECK(eps[1].port == 9000);  // else the ServiceEntry's targetPort
  CHECK(svc->visibleFrom("orders"));
  CHECK_FALSE(svc->visibleFrom("shop"));
  const Service* ext = reg.lookup("api.example.com", "payments");
  REQUIRE(ext != nullptr);
  CHECK(ext->meshExternal);
  CHECK(ext->resolution == Resolution::Dns);
  REQUIRE(reg.endpoints(*ext, 443).size() == 1);
  CHECK(reg.endpoints(*ext, 443)[0].address == "api.example.com");
}

TEST_CASE("Sidecar egress scopes what a proxy sees; exportTo still applies") {
  std::string yaml = std::string(kKube) + "\n---\n" + std::string(kLocal) + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: orders}
spec:
  egress:
  - hosts: ["payments/*"]
)";
  auto snap = testing::snapshotFromYaml(yaml);
  auto inOrders = SidecarScope::compute(*snap, testing::sidecarProxy("orders-1", "orders"));
  std::vector<std::string> hosts;
  for (const Service* s : inOrders.services()) hosts.push_back(s->hostname);
  CHECK(hosts == std::vector<std::string>{"api.example.com", "payments-api.payments.svc.cluster.local"});
  auto inShop = SidecarScope::compute(*snap, testing::sidecarProxy("reviews-1", "shop"));
  hosts.clear();
  for (const Service* s : inShop.services()) hosts.push_back(s->hostname);
  // No Sidecar in shop: everything exported to it (payments-api is exported to payments and orders only).
  CHECK(hosts == std::vector<std::string>{"api.example.com", "reviews.shop.svc.cluster.local"});
  CHECK(inOrders.key() != inShop.key());
}

TEST_CASE("invalid config is left out of the snapshot with an attributed error") {
  auto snap = testing::snapshotFromYaml(std::string(kLocal) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http:
  - route:
    - destination: {host: payments-api.payments.svc.cluster.local}
      weight: -5
)");
  CHECK(snap->ofKind("networking.istio.io", "VirtualService").empty());
  REQUIRE_FALSE(snap->skipped().empty());
  const core::Diagnostic& d = snap->skipped().front();
  CHECK(d.file == "test.yaml");
  CHECK(d.line > 30);
  CHECK(d.resource == "VirtualService broken.payments");
  CHECK(d.field.find("weight") != std::string::npos);
}

TEST_CASE("proxy identity from Istio's node id and metadata") {
  NodeInfo n;
  n.id = "sidecar~10.0.0.1~reviews-1.shop~shop.svc.cluster.local";
  n.metadata["GENERATOR"] = "grpc";
  n.metadata["INSTANCE_IPS"] = "10.0.0.1,fd00::1";
  auto p = Proxy::fromNode(n);
  REQUIRE(p);
  CHECK(p->type == ProxyType::Sidecar);
  CHECK(p->generator == GeneratorKind::Grpc);
  CHECK(p->workloadName == "reviews-1");
  CHECK(p->namespace_ == "shop");
  CHECK(p->ips == std::vector<std::string>{"10.0.0.1", "fd00::1"});
  n.id = "gateway~1~a.b~c";
  CHECK_FALSE(Proxy::fromNode(n));
  n.id = "router";
  CHECK_FALSE(Proxy::fromNode(n));
}

TEST_CASE("Sidecars of every namespace share one scope only when nothing depends on the namespace") {
  constexpr std::string_view kTwoNamespaces = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments.payments.svc.cluster.local]
  ports: [{number: 8080, name: http}]
  resolution: STATIC
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: orders, namespace: orders}
spec:
  hosts: [orders.orders.svc.cluster.local]
  ports: [{number: 8080, name: http}]
  resolution: STATIC
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: payments}
spec:
  host: payments
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
)";
  auto keysOf = [](std::string_view yaml) {
    auto snap = testing::snapshotFromYaml(yaml);
    return std::pair(SidecarScope::compute(*snap, testing::sidecarProxy("a", "payments")).key(),
                     SidecarScope::compute(*snap, testing::sidecarProxy("b", "orders")).key());
  };
  auto shared = testing::snapshotFromYaml(kTwoNamespaces);
  CHECK(shared->outboundIsNamespaceIndependent());
  auto [a, b] = keysOf(kTwoNamespaces);
  CHECK(a == b);

  // A rule in orders for payments' host: proxies in orders resolve it first, others do not.
  std::string elsewhere = std::string(kTwoNamespaces) + R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments-from-orders, namespace: orders}
spec:
  host: payments.payments.svc.cluster.local
)";
  CHECK_FALSE(testing::snapshotFromYaml(elsewhere)->outboundIsNamespaceIndependent());
  auto [c, d] = keysOf(elsewhere);
  CHECK(c != d);

  // exportTo and sourceNamespace make visibility or routes depend on the namespace too.
  std::string exported = std::string(kTwoNamespaces) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: orders, namespace: orders}
spec:
  hosts: [orders.orders.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: orders.orders.svc.cluster.local}}]}]
)";
  CHECK_FALSE(testing::snapshotFromYaml(exported)->outboundIsNamespaceIndependent());
  std::string bySource = std::string(kTwoNamespaces) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: orders, namespace: orders}
spec:
  hosts: [orders.orders.svc.cluster.local]
  http:
  - match: [{sourceNamespace: payments}]
    route: [{destination: {host: orders.orders.svc.cluster.local}}]
)";
  CHECK_FALSE(testing::snapshotFromYaml(bySource)->outboundIsNamespaceIndependent());
}

}  // namespace
}  // namespace mesh::model
