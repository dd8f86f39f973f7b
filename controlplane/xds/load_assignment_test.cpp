// buildLoadAssignment's istio.workload endpoint metadata: Istio's five-part form with the
// canonical service name and revision taken from the workload's labels.
#include <doctest/doctest.h>

#include <vector>

#include "controlplane/xds/load_assignment.h"

using namespace mesh;

namespace {

model::Endpoint endpoint(std::string workload, model::Labels labels) {
  model::Endpoint ep;
  ep.address = "10.0.0.1";
  ep.port = 8080;
  ep.namespace_ = "shop";
  ep.workloadName = std::move(workload);
  ep.labels = std::move(labels);
  return ep;
}

std::string workloadOf(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, int i) {
  const auto& lbe = cla.endpoints(0).lb_endpoints(i);
  const auto& istio = lbe.metadata().filter_metadata().at("istio");
  return istio.fields().at("workload").string_value();
}

}  // namespace

TEST_CASE("istio.workload: NAME;NAMESPACE;CANONICAL_NAME;CANONICAL_REVISION;CLUSTER_ID from labels") {
  std::vector<model::Endpoint> eps = {
      endpoint("payments-v2-abc", {{"app", "payments"}, {"version", "v2"}}),
      endpoint("orders-1", {{"app", "orders"},
                            {"app.kubernetes.io/name", "orders-kube"},
                            {"service.istio.io/canonical-name", "orders-canonical"},
                            {"app.kubernetes.io/version", "1.4"},
                            {"service.istio.io/canonical-revision", "r7"}}),
      endpoint("ledger-0", {{"app.kubernetes.io/name", "ledger"}, {"app.kubernetes.io/version", "2.0"}}),
      endpoint("vm-1", {}),
  };
  auto cla = mesh::xds::buildLoadAssignment("outbound|8080||shop", eps, nullptr, true);
  REQUIRE(cla.endpoints_size() == 1);
  REQUIRE(cla.endpoints(0).lb_endpoints_size() == 4);
  CHECK(workloadOf(cla, 0) == "payments-v2-abc;shop;payments;v2;");
  CHECK(workloadOf(cla, 1) == "orders-1;shop;orders-canonical;r7;");  // Istio's own labels first
  CHECK(workloadOf(cla, 2) == "ledger-0;shop;ledger;2.0;");
  CHECK(workloadOf(cla, 3) == "vm-1;shop;vm-1;latest;");  // no labels: the workload name, "latest"
}
