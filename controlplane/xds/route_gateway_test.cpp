// RDS for gateways: gatewaysFor() selection and RDS names, and route configurations built from
// the VirtualServices bound to each Gateway.
#include <doctest/doctest.h>

#include "controlplane/xds/gateway_selection.h"
#include "controlplane/xds/route_test_support.h"

using namespace mesh;
using namespace mesh::xds;
using namespace mesh::xds::test;

namespace {

constexpr std::string_view kGateway = R"(apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec:
  clusterIP: 10.0.0.9
  selector: {app: productpage}
  ports:
  - {name: http, port: 9080}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bookinfo.com, "*.example.com", "./local.example.org"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
  - port: {number: 8443, name: tls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other-gateway, namespace: default}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: [bookinfo.com, a.example.com, "*.example.org"]
  gateways: [bookinfo-gateway, mesh]
  http:
  - match:
    - uri: {prefix: /mesh-only}
      gateways: [mesh]
    route:
    - destination: {host: productpage, subset: v2}
  - match:
    - uri: {prefix: /productpage}
    route:
    - destination:
        host: productpage
        port: {number: 9080}
  - route:
    - destination: {host: productpage, subset: v1}
)";

model::Proxy ingress() { return proxyIn("istio-system", {{"istio", "ingressgateway"}}, model::ProxyType::Router); }

}  // namespace

TEST_CASE("gatewaysFor: servers of the Gateways selecting the proxy, with Istio's RDS names") {
  Fixture f(kGateway, ingress());
  auto servers = gatewaysFor(f.view());
  REQUIRE(servers.size() == 3);
  CHECK(servers[0].gatewayName() == "default/bookinfo-gateway");
  CHECK(servers[0].routeName() == "http.80");
  CHECK(servers[0].hosts == std::vector<std::string>{"bookinfo.com", "*.example.com", "default/local.example.org"});
  CHECK(servers[1].routeName() == "https.443.https.bookinfo-gateway.default");
  CHECK(servers[1].tlsMode == "SIMPLE");
  CHECK(servers[2].routeName().empty());
  CHECK_FALSE(servers[2].servesHttp());
  // Sidecars implement no Gateway.
  CHECK(gatewaysFor(*f.snapshot, proxyIn("default")).empty());
}

TEST_CASE("gateway route config: a virtual host per host shared by server and VirtualService") {
  Fixture f(kGateway, ingress());
  auto rc = f.routeConfig("http.80");
  CHECK(rc.ignore_port_in_host_matching());
  REQUIRE(rc.virtual_hosts_size() == 3);
  CHECK(rc.virtual_hosts(0).name() == "a.example.com:80");
  CHECK(rc.virtual_hosts(1).name() == "bookinfo.com:80");
  CHECK(rc.virtual_hosts(2).name() == "local.example.org:80");  // server ./host admits this namespace
  const auto& vh = rc.virtual_hosts(1);
  REQUIRE(vh.domains_size() == 1);
  CHECK(vh.domains(0) == "bookinfo.com");
  // The mesh-only match is dropped on the gateway; the catch-all stays last.
  REQUIRE(vh.routes_size() == 2);
  CHECK(vh.routes(0).match().prefix() == "/productpage");
  CHECK(vh.routes(0).route().cluster() == "outbound|9080||productpage.default.svc.cluster.local");
  CHECK(vh.routes(1).route().cluster() == "outbound|9080|v1|productpage.default.svc.cluster.local");

  auto https = f.routeConfig("https.443.https.bookinfo-gateway.default");
  REQUIRE(https.virtual_hosts_size() == 1);
  CHECK(https.virtual_hosts(0).name() == "bookinfo.com:443");
}

TEST_CASE("gateway: wildcard generation, unknown names and the blackhole host") {
  Fixture f(kGateway, ingress());
  XdsResources all = RouteGenerator().generate(f.view(), ResourceNames{});
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "http.80");
  CHECK(all[1].name == "https.443.https.bookinfo-gateway.default");
  auto unknown = f.routeConfig("http.9999");
  CHECK(unknown.virtual_hosts_size() == 0);

  Fixture egress(kGateway, proxyIn("istio-system", {{"istio", "egressgateway"}}, model::ProxyType::Router));
  auto rc = egress.routeConfig("http.80");
  REQUIRE(rc.virtual_hosts_size() == 1);
  CHECK(rc.virtual_hosts(0).name() == "blackhole:80");
  CHECK(rc.virtual_hosts(0).routes_size() == 0);
}

TEST_CASE("gateway: httpsRedirect hosts require TLS") {
  Fixture f(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [secure.example.com]
    tls: {httpsRedirect: true}
)",
            ingress());
  auto rc = f.routeConfig("http.80");
  REQUIRE(rc.virtual_hosts_size() == 1);
  CHECK(rc.virtual_hosts(0).name() == "secure.example.com:80");
  CHECK(rc.virtual_hosts(0).require_tls() == envoy::config::route::v3::VirtualHost::ALL);
}
