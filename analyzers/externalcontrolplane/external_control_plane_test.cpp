#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("externalcontrolplane.ExternalControlPlaneAnalyzer: webhook URLs without DNS lookups") {
  auto found = run("externalcontrolplane.ExternalControlPlaneAnalyzer", R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: istio-validator-remote}
webhooks:
- {name: ipv6.validation.istio.io, clientConfig: {url: "https://[fd00::1]:15017/validate"}}
- {name: badport.validation.istio.io, clientConfig: {url: "https://istiod.example.com:port/validate"}}
- {name: noscheme.validation.istio.io, clientConfig: {url: "://istiod.example.com"}}
- {name: service.validation.istio.io, clientConfig: {service: {name: istiod, namespace: istio-system}}}
- {name: nohost.validation.istio.io, clientConfig: {url: "/validate"}}
- {name: ok.validation.istio.io, clientConfig: {url: "https://user@istiod.example.com:15017/validate?x=1#f"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: other-validator}
webhooks:
- {name: x.example.com, clientConfig: {url: "https://10.0.0.1/"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector-remote}
webhooks:
- {name: ip.sidecar-injector.istio.io, clientConfig: {url: "https://10.1.2.3:15017/inject"}}
- {name: blank.sidecar-injector.istio.io, clientConfig: {}}
- {name: notip.sidecar-injector.istio.io, clientConfig: {url: "https://999.1.1.1/inject"}}
)");
  CHECK(codesAndOrigins(found) == Strings{
                                      "IST0163 MutatingWebhookConfiguration istio-sidecar-injector-remote",
                                      "IST0163 ValidatingWebhookConfiguration istio-validator-remote",
                                      "IST0163 ValidatingWebhookConfiguration istio-validator-remote",
                                      "IST0163 ValidatingWebhookConfiguration istio-validator-remote",
                                      "IST0164 MutatingWebhookConfiguration istio-sidecar-injector-remote",
                                      "IST0164 ValidatingWebhookConfiguration istio-validator-remote",
                                  });
  CHECK(found[0].text ==
        "The hostname () that was provided for the webhook (blank.sidecar-injector.istio.io) to reach the ingress "
        "gateway on the external control plane cluster is blank. Traffic may not flow properly.");
  CHECK(found[4].text ==
        "The address (https://10.1.2.3:15017/inject) that was provided for the webhook "
        "(ip.sidecar-injector.istio.io) to reach the ingress gateway on the external control plane cluster is an IP "
        "address. This is not recommended for a production environment.");
}
