#include <doctest/doctest.h>

#include <ctime>

#include "analyzers/gateway/security_test_support.h"
#include "analyzers/gateway/tls_credential.h"

using namespace mesh;
using namespace mesh::analysis;
using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

namespace {

std::string secretYaml(std::string_view name, std::string_view ns, std::string_view certKey, std::string_view certPem,
                       std::string_view keyKey = "tls.key") {
  return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + std::string(name) + ", namespace: " + std::string(ns) +
         "}\ndata:\n  " + std::string(certKey) + ": " + base64(certPem) + "\n  " + std::string(keyKey) + ": " +
         base64("not checked") + "\n---\n";
}

std::string gatewayYaml(std::string_view name, std::string_view selector, std::string_view credential) {
  return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + std::string(name) +
         ", namespace: apps}\nspec:\n  selector: " + std::string(selector) +
         "\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n"
         "    tls: {mode: SIMPLE, credentialName: \"" +
         std::string(credential) + "\"}\n---\n";
}

}  // namespace

TEST_CASE("tls credential: base64 as Kubernetes encodes Secret data") {
  CHECK(decodeBase64("aGVsbG8=") == "hello");
  CHECK(decodeBase64("aGVs\nbG8h") == "hello!");
  CHECK_FALSE(decodeBase64("aGVsbG8").has_value());  // missing padding
  CHECK_FALSE(decodeBase64("aG$sbG8=").has_value());
  CHECK(decodeBase64("") == "");
}

TEST_CASE("tls credential: the first PEM certificate must parse and be valid now") {
  std::time_t now = std::time(nullptr);
  CHECK(certificateUsable(makeCertificatePem(-3600, 3600), now));
  CHECK_FALSE(certificateUsable(makeCertificatePem(-7200, -3600), now));  // expired
  CHECK_FALSE(certificateUsable(makeCertificatePem(3600, 7200), now));    // not yet valid
  CHECK(certificateUsable("leading text\n" + makeCertificatePem(-3600, 3600), now));
  CHECK_FALSE(certificateUsable("hush hush hush\n", now));
  CHECK_FALSE(certificateUsable("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n", now));
  // Only the first block counts, as in istiod.
  CHECK(certificateUsable(makeCertificatePem(-3600, 3600) + makeCertificatePem(-7200, -3600), now));
}

TEST_CASE("gateway.SecretAnalyzer: credentials live in the gateway workload's namespace") {
  std::string good = makeCertificatePem(-3600, 86400);
  std::string yaml =
      secretYaml("good", "gw-ns", "tls.crt", good) + secretYaml("generic", "gw-ns", "cert", good, "key") +
      secretYaml("good", "apps", "tls.crt", good) +
      secretYaml("expired", "gw-ns", "tls.crt", makeCertificatePem(-7200, -3600)) +
      "apiVersion: v1\nkind: Secret\nmetadata: {name: empty-key, namespace: gw-ns}\n"
      "data: {tls.crt: " +
      base64(good) + ", tls.key: \"\"}\n---\n" +
      "apiVersion: v1\nkind: Pod\nmetadata: {name: gw, namespace: gw-ns, labels: {app: my-gw}}\n---\n" +
      gatewayYaml("ok", "{app: my-gw}", "good") + gatewayYaml("ok-generic", "{app: my-gw}", "generic") +
      gatewayYaml("explicit-ns", "{app: my-gw}", "apps/good") + gatewayYaml("wrong-ns", "{app: my-gw}", "missing") +
      gatewayYaml("expired", "{app: my-gw}", "expired") + gatewayYaml("empty-key", "{app: my-gw}", "empty-key") +
      gatewayYaml("no-pods", "{app: nothing}", "good");
  auto found = run("gateway.SecretAnalyzer", yaml);
  CHECK(codesAndOrigins(found) == Strings{"IST0101 Gateway apps/no-pods", "IST0101 Gateway apps/wrong-ns",
                                          "IST0161 Gateway apps/empty-key", "IST0161 Gateway apps/expired"});
  CHECK(found[0].text == "Referenced selector not found: \"app=nothing\"");
  CHECK(found[1].text == "Referenced credentialName not found: \"missing\"");
  CHECK(found[3].text ==
        "The credential referenced by the Gateway expired in namespace gw-ns is invalid, which can cause the traffic "
        "not to work as expected.");
}

TEST_CASE("gateway.IngressGatewayPortAnalyzer: server ports must be TCP Service ports or targetPorts") {
  auto found = run("gateway.IngressGatewayPortAnalyzer", R"(
apiVersion: v1
kind: Pod
metadata: {name: gw, namespace: edge, labels: {app: edge-gw}}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: edge}
spec:
  selector: {app: edge-gw}
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
  - {name: https, port: 443, targetPort: "8443", protocol: TCP}
  - {name: named, port: 9000, targetPort: web, protocol: TCP}
  - {name: dns, port: 53, protocol: UDP}
  - {name: noproto, port: 7000}
---
apiVersion: v1
kind: Service
metadata: {name: elsewhere, namespace: other}
spec:
  selector: {app: edge-gw}
  ports: [{name: tcp, port: 6000, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: apps}
spec:
  selector: {app: edge-gw}
  servers:
  - port: {number: 80, name: a, protocol: HTTP}
  - port: {number: 8080, name: b, protocol: HTTP}
  - port: {number: 8443, name: c, protocol: HTTPS}
  - port: {number: 9000, name: d, protocol: HTTP}
  - port: {number: 53, name: e, protocol: TCP}
  - port: {number: 7000, name: f, protocol: TCP}
  - port: {number: 6000, name: g, protocol: TCP}
  - hosts: ["*"]
)");
  REQUIRE(found.size() == 3);
  CHECK(found[0].text ==
        "The gateway is listening on a target port (port 53) that is not defined in the Service associated with its "
        "workload instances (Pod selector app=edge-gw). If you need to access the gateway port through the gateway "
        "Service, it will not be available.");
  CHECK(found[1].text.find("(port 6000)") != std::string::npos);
  CHECK(found[2].text.find("(port 7000)") != std::string::npos);
}

TEST_CASE("gateway.IngressGatewayPortAnalyzer: the default ingress gateway serves 80 and 443") {
  auto found = run("gateway.IngressGatewayPortAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
  - port: {number: 8080, name: http, protocol: HTTP}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0162 Gateway gw"});
}

TEST_CASE("gateway.ConflictingGatewayAnalyzer: same host needs the same bind, hosts compare exactly") {
  auto found = run("gateway.ConflictingGatewayAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 80, name: http, protocol: HTTP}, hosts: [foo.com, bar.com]}
  - {port: {number: 81, name: http2, protocol: HTTP}, hosts: [foo.com], bind: 10.0.0.1}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: b}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 80, name: http, protocol: HTTP}, hosts: [bar.com]}
  - {port: {number: 81, name: http2, protocol: HTTP}, hosts: [foo.com], bind: 10.0.0.2}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: c}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.com"]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: no-servers}
spec:
  selector: {istio: nothing}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0101 Gateway no-servers", "IST0145 Gateway a", "IST0145 Gateway b"});
  CHECK(found[1].text ==
        "Conflict with gateways b (workload selector istio=ingressgateway, port 80, hosts foo.com,bar.com).");
}

TEST_CASE("gateway.ConflictingGatewayAnalyzer: overlapping selectors conflict only when a pod matches both") {
  std::string gateways = R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: narrow}
spec:
  selector: {istio: ingressgateway, tier: edge}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [foo.com]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: wide}
spec:
  selector: {tier: edge}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [foo.com]}]
)";
  CHECK(run("gateway.ConflictingGatewayAnalyzer", gateways).empty());
  auto found = run(
      "gateway.ConflictingGatewayAnalyzer",
      gateways + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {istio: ingressgateway, tier: edge}}\n");
  CHECK(codesAndOrigins(found) == Strings{"IST0145 Gateway narrow", "IST0145 Gateway wide"});
}

TEST_CASE("gateway.CertificateAnalyzer: file certificates and empty selectors") {
  auto found = run("gateway.CertificateAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: any, namespace: a}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, serverCertificate: /etc/c.pem, privateKey: /etc/k.pem}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: specific, namespace: b}
spec:
  selector: {app: gw}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, serverCertificate: /etc/c.pem, privateKey: /etc/k.pem}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other-key, namespace: b}
spec:
  selector: {app: gw}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, serverCertificate: /etc/c.pem, privateKey: /etc/other.pem}
)");
  // "any" (no selector) is compared with every gateway; "specific" only with gateways whose
  // selector contains app=gw, and "other-key" has a different private key.
  CHECK(codesAndOrigins(found) == Strings{"IST0138 Gateway a/any"});
  CHECK(found[0].text ==
        "Duplicate certificate in multiple gateways [a/any b/specific] may cause 404s if clients re-use HTTP2 "
        "connections.");
}
