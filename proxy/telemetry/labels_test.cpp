// Response flags in Envoy's short form, and where Istio's labels come from: cluster names,
// endpoint metadata, node metadata; and the per-thread child cache of IstioMetrics.
#include <doctest/doctest.h>

#include <regex>
#include <thread>

#include "core/metrics/exposition.h"
#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/peer_labels.h"
#include "proxy/telemetry/response_flags.h"

namespace mesh::proxy::telemetry {
namespace {

TEST_CASE("response flags: Envoy's short names in Envoy's order, '-' when none") {
  CHECK(responseFlagsString(0) == "-");
  CHECK(responseFlagsString(kNoHealthyUpstream) == "UH");
  CHECK(responseFlagsString(kNoRouteFound) == "NR");
  CHECK(responseFlagsString(kUpstreamRetryLimitExceeded | kUpstreamConnectionFailure) == "UF,URX");
  CHECK(responseFlagsString(kFaultInjected | kDelayInjected) == "DI,FI");
  CHECK(responseFlagsString(kUpstreamRequestTimeout) == "UT");
  CHECK(responseFlagsString(kUpstreamOverflow) == "UO");
  CHECK(responseFlagsString(kDownstreamConnectionTermination) == "DC");
  CHECK(responseFlagsString(kUpstreamConnectionTermination) == "UC");
  CHECK(responseFlagsString(kNoClusterFound) == "NC");
}

TEST_CASE("destination service from Istio's cluster names") {
  auto s = serviceFromClusterName("outbound|9080|v1|reviews.bookinfo.svc.cluster.local");
  CHECK(s.host == "reviews.bookinfo.svc.cluster.local");
  CHECK(s.name == "reviews");
  CHECK(s.namespace_ == "bookinfo");
  s = serviceFromClusterName("outbound|80||httpbin.example.com");
  CHECK(s.host == "httpbin.example.com");
  CHECK(s.name == "httpbin.example.com");
  CHECK(s.namespace_.empty());
  s = serviceFromClusterName("inbound|9080||");
  CHECK(s.host.empty());
  s = serviceFromClusterName("BlackHoleCluster");
  CHECK(s.host == "BlackHoleCluster");
}

TEST_CASE("destination workload from endpoint metadata, local workload from node metadata") {
  auto p = peerFromWorkloadMetadata("reviews-v2;bookinfo;reviews;v2;Kubernetes");
  CHECK(p.workload == "reviews-v2");
  CHECK(p.workloadNamespace == "bookinfo");
  CHECK(p.app == "reviews");
  CHECK(p.version == "v2");
  CHECK(p.cluster == "Kubernetes");
  p = peerFromWorkloadMetadata("backend-1;shop");  // the short form of older control planes
  CHECK(p.workload == "backend-1");
  CHECK(p.workloadNamespace == "shop");
  CHECK(p.app.empty());

  LocalWorkload w;
  w.name = "istio-ingressgateway";
  w.namespace_ = "istio-system";
  w.serviceAccount = "istio-ingressgateway-service-account";
  w.clusterId = "Kubernetes";
  w.labels = {{"app", "istio-ingressgateway"}, {"istio", "ingressgateway"}};
  auto local = localPeer(w);
  CHECK(local.principal == "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account");
  CHECK(local.app == "istio-ingressgateway");
  CHECK(local.version.empty());
  CHECK(local.canonicalService == "istio-ingressgateway");
  CHECK(local.canonicalRevision == "latest");
  CHECK(local.cluster == "Kubernetes");
  w.serviceAccount.clear();
  CHECK(localPeer(w).principal.empty());
}

TEST_CASE("IstioMetrics: cached children count every request, per label tuple, from many threads") {
  metrics::Registry registry;
  IstioMetrics m(registry);
  RequestRecord ok;
  ok.responseCode = 200;
  ok.destinationService = "a.b.svc.cluster.local";
  RequestRecord notFound = ok;
  notFound.responseCode = 404;
  notFound.responseFlags = "NR";
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        m.recordRequest(ok);
        if (i % 5 == 0) m.recordRequest(notFound);
      }
    });
  for (auto& t : threads) t.join();
  std::string text = metrics::expose(registry);
  CHECK(std::regex_search(text, std::regex(R"(istio_requests_total\{[^}]*response_code="200"[^}]*\} 1000\n)")));
  CHECK(std::regex_search(text, std::regex(R"(istio_requests_total\{[^}]*response_code="404",[^}]*response_flags="NR"[^}]*\} 200\n)")));
  // A second instance on the same thread does not reuse the first one's children.
  metrics::Registry other;
  IstioMetrics m2(other);
  m2.recordRequest(ok);
  CHECK(std::regex_search(metrics::expose(other), std::regex(R"(istio_requests_total\{[^}]*\} 1\n)")));
}

}  // namespace
}  // namespace mesh::proxy::telemetry
