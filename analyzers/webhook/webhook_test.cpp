#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("webhook.Analyzer: revisioned injectors overlap only on a shared revision") {
  std::string yaml = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: injector-canary, labels: {istio.io/rev: canary}}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: {url: "https://istiod-canary:15017/inject"}
  namespaceSelector:
    matchExpressions:
    - {key: istio.io/rev, operator: In, values: [canary]}
    - {key: istio-injection, operator: DoesNotExist}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: injector-stable}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: {service: {name: istiod-stable, namespace: istio-system}}
  namespaceSelector:
    matchLabels: {istio.io/rev: stable}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: unrelated}
webhooks:
- name: mutate.example.com
  clientConfig: {service: {name: missing, namespace: default}}
---
apiVersion: v1
kind: Service
metadata: {name: istiod-stable, namespace: istio-system}
)";
  CHECK(run("webhook.Analyzer", yaml).empty());

  auto found = run("webhook.Analyzer", yaml + R"(---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: injector-canary-2}
webhooks:
- name: object.sidecar-injector.istio.io
  clientConfig: {service: {name: istiod-canary, namespace: istio-system}}
  objectSelector:
    matchLabels: {istio.io/rev: canary}
)");
  // injector-canary-2 selects canary pods in any namespace, so it also overlaps with the stable
  // injector for canary pods in stable namespaces.
  CHECK(codesAndOrigins(found) == Strings{"IST0139 MutatingWebhookConfiguration injector-canary",
                                          "IST0139 MutatingWebhookConfiguration injector-canary-2",
                                          "IST0139 MutatingWebhookConfiguration injector-canary-2",
                                          "IST0139 MutatingWebhookConfiguration injector-canary-2",
                                          "IST0139 MutatingWebhookConfiguration injector-stable"});
  CHECK(found[0].text ==
        "Webhook overlaps with others: [injector-canary-2/object.sidecar-injector.istio.io]. This may cause "
        "injection to occur twice.");
  CHECK(found[1].text == "Injector refers to a control plane service that does not exist: istio-system/istiod-canary.");
}
