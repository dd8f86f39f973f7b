#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("serviceentry.ConflictingServiceEntryProtocolAnalyzer: scopes overlap through '*' only") {
  auto found = runAnalyzer("serviceentry.ConflictingServiceEntryProtocolAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: one}
spec:
  hosts: [x.com]
  exportTo: ["."]
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: two}
spec:
  hosts: [x.com]
  exportTo: ["."]
  ports: [{number: 80, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: c, namespace: three}
spec:
  hosts: [x.com]
  ports: [{number: 80, name: http, protocol: http}]
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0177 ServiceEntry three/c", "IST0177 ServiceEntry two/b"});
  CHECK(found[0].text ==
        "Multiple ServiceEntries (three/c, two/b) define the same host \"x.com\" and port 80 with conflicting "
        "protocols (HTTP, TCP).");
}
