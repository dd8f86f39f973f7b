#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("destinationrule.CaCertificateAnalyzer: credentialName counts only with a workloadSelector") {
  auto found = runAnalyzer("destinationrule.CaCertificateAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: no-selector, namespace: prod}
spec:
  host: db.prod.svc.cluster.local
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: db-cred}
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: MUTUAL, credentialName: db-cred}
    - port: {number: 8443}
      tls: {mode: ISTIO_MUTUAL}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: with-selector, namespace: prod}
spec:
  host: db.prod.svc.cluster.local
  workloadSelector: {matchLabels: {app: client}}
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: db-cred}
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: MUTUAL, credentialName: db-cred}
    - port: {number: 444}
      tls: {mode: MUTUAL}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0128 DestinationRule prod/no-selector",
                                          "IST0129 DestinationRule prod/no-selector",
                                          "IST0129 DestinationRule prod/with-selector"});
  CHECK(found[0].text ==
        "DestinationRule prod/no-selector in namespace prod has TLS mode set to SIMPLE but no caCertificates are set "
        "to validate server identity for host: db.prod.svc.cluster.local");
  CHECK(found[2].text.ends_with("at port number:444"));
}
