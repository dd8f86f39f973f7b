#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

namespace {

std::string vs(std::string_view ns, std::string_view name, std::string_view host, std::string_view exportTo) {
  std::string out = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " +
                    std::string(name) + ", namespace: " + std::string(ns) + "}\nspec:\n  hosts: ['" +
                    std::string(host) + "']\n";
  if (!exportTo.empty()) out += "  exportTo: [" + std::string(exportTo) + "]\n";
  return out;
}

}  // namespace

TEST_CASE("virtualservice.ConflictingMeshGatewayHostsAnalyzer: exportTo scopes") {
  std::string yaml = vs("foo", "p", "*.productpage", "") + vs("bar", "p", "*.productpage", "") +
                     vs("foo", "b", "*.productpage.b", "foo") + vs("bar", "b", "*.productpage.b", "'.'") +
                     vs("foo", "c", "*.productpage.c", "foo") + vs("bar", "c", "*.productpage.c", "'*'") +
                     vs("foo", "d", "*.productpage.d", "'.'") + vs("bar", "d", "*.d", "'*'");
  auto found = runAnalyzer("virtualservice.ConflictingMeshGatewayHostsAnalyzer", yaml);
  CHECK(codesAndOrigins(found) == Strings{"IST0109 VirtualService bar/c", "IST0109 VirtualService bar/d",
                                          "IST0109 VirtualService bar/p", "IST0109 VirtualService foo/c",
                                          "IST0109 VirtualService foo/d", "IST0109 VirtualService foo/p"});
}
