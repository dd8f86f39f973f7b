#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("virtualservice.DestinationRuleAnalyzer: subsets must be defined for the host") {
  auto found = runAnalyzer("virtualservice.DestinationRuleAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ok, namespace: default}
spec:
  http:
  - route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v1}
    mirror: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bogus, namespace: default}
spec:
  http:
  - route:
    - destination: {host: reviews, subset: bogus}
    mirror: {host: reviews, subset: bogus2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: other-ns, namespace: other}
spec:
  tcp:
  - route:
    - destination: {host: reviews, subset: v1}
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0101 VirtualService default/bogus", "IST0101 VirtualService default/bogus",
                "IST0101 VirtualService other/other-ns"});
  CHECK(found[0].text == "Referenced host+subset in destinationrule not found: \"reviews+bogus\"");
  CHECK(found[1].text == "Referenced mirror+subset in destinationrule not found: \"reviews+bogus2\"");
}
