// ads_probe: an Envoy-shaped ADS client for tests of meshd's debugging surface. It connects
// like a sidecar (Istio node id and metadata), subscribes to CDS and LDS, then to the EDS and
// RDS names those responses name, as Envoy does, and ACKs every response, except for the types
// named with --nack, which it rejects with --nack-message (a real NACK: meshd sees error_detail).
// Prints "synced" once every type has been answered, then stays connected until SIGTERM.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr const char* kCds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr const char* kEds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
constexpr const char* kLds = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr const char* kRds = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

std::string shortName(const std::string& typeUrl) {
  if (typeUrl == kCds) return "cds";
  if (typeUrl == kEds) return "eds";
  if (typeUrl == kLds) return "lds";
  if (typeUrl == kRds) return "rds";
  return typeUrl;
}

// EDS names of the clusters that take their endpoints from ADS.
std::set<std::string> edsNames(const DiscoveryResponse& cds) {
  std::set<std::string> out;
  for (const auto& any : cds.resources()) {
    envoy::config::cluster::v3::Cluster c;
    if (!any.UnpackTo(&c) || c.type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    out.insert(c.eds_cluster_config().service_name().empty() ? c.name() : c.eds_cluster_config().service_name());
  }
  return out;
}

// RDS names of the HTTP connection managers in the listeners.
std::set<std::string> rdsNames(const DiscoveryResponse& lds) {
  std::set<std::string> out;
  for (const auto& any : lds.resources()) {
    envoy::config::listener::v3::Listener l;
    if (!any.UnpackTo(&l)) continue;
    for (const auto& chain : l.filter_chains())
      for (const auto& filter : chain.filters()) {
        envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
        if (filter.has_typed_config() && filter.typed_config().UnpackTo(&hcm) && hcm.has_rds())
          out.insert(hcm.rds().route_config_name());
      }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("ads_probe: an Envoy-shaped ADS client that ACKs or NACKs", "ads_probe");
  std::string address, nodeId, cluster = "Kubernetes", nackMessage = "rejected by ads_probe", version = "1.0.0-probe";
  std::vector<std::string> nack, labels;
  app.add_option("--xds-address", address, "meshd's xDS address")->required();
  app.add_option("--node-id", nodeId, "Istio node id: sidecar~IP~POD.NS~NS.svc.cluster.local")->required();
  app.add_option("--cluster", cluster, "CLUSTER_ID");
  app.add_option("--label", labels, "k=v workload label (repeatable)");
  app.add_option("--nack", nack, "Reject every response of this type: cds, eds, lds, rds (repeatable)");
  app.add_option("--nack-message", nackMessage, "The NACK's error_detail message");
  app.add_option("--istio-version", version, "ISTIO_VERSION metadata");
  CLI11_PARSE(app, argc, argv);

  // SIGTERM ends the stream cleanly; the main thread waits for it in sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->StreamAggregatedResources(&ctx);

  DiscoveryRequest first;
  auto* node = first.mutable_node();
  node->set_id(nodeId);
  node->set_cluster(cluster);
  auto& md = *node->mutable_metadata()->mutable_fields();
  md["CLUSTER_ID"].set_string_value(cluster);
  md["ISTIO_VERSION"].set_string_value(version);
  // NAMESPACE from the node id's third field ("pod.ns").
  std::string podNs = nodeId.substr(0, nodeId.rfind('~'));
  podNs = podNs.substr(podNs.rfind('~') + 1);
  md["NAMESPACE"].set_string_value(podNs.substr(podNs.find('.') + 1));
  auto& labelFields = *md["LABELS"].mutable_struct_value()->mutable_fields();
  for (const std::string& kv : labels) {
    auto eq = kv.find('=');
    labelFields[kv.substr(0, eq)].set_string_value(eq == std::string::npos ? "" : kv.substr(eq + 1));
  }

  // The sync API allows one writer at a time: the first requests go out before the reader
  // (which writes every later one) starts.
  first.set_type_url(kCds);
  stream->Write(first);
  DiscoveryRequest lds;
  lds.set_type_url(kLds);
  stream->Write(lds);

  std::thread reader([&] {
    std::map<std::string, std::string> acked;  // type → version it holds
    std::set<std::string> answered, subscribedEds, subscribedRds;
    auto send = [&](const std::string& type, const std::set<std::string>& names, const DiscoveryResponse* resp) {
      DiscoveryRequest r;
      r.set_type_url(type);
      for (const auto& n : names) r.add_resource_names(n);
      if (resp) {
        r.set_response_nonce(resp->nonce());
        bool reject = std::ranges::find(nack, shortName(type)) != nack.end();
        if (reject) r.mutable_error_detail()->set_message(nackMessage);
        else acked[type] = resp->version_info();
      }
      r.set_version_info(acked[type]);
      stream->Write(r);
    };
    DiscoveryResponse resp;
    while (stream->Read(&resp)) {
      const std::string type = resp.type_url();
      if (type == kCds) {
        send(type, {}, &resp);
        auto names = edsNames(resp);
        if (names != subscribedEds) send(kEds, subscribedEds = names, nullptr);
      } else if (type == kLds) {
        send(type, {}, &resp);
        auto names = rdsNames(resp);
        if (names != subscribedRds) send(kRds, subscribedRds = names, nullptr);
      } else {
        send(type, type == kEds ? subscribedEds : subscribedRds, &resp);
      }
      // CDS and LDS, plus EDS and RDS when there is anything to ask for.
      auto expected = [&] { return size_t{2} + (subscribedEds.empty() ? 0 : 1) + (subscribedRds.empty() ? 0 : 1); };
      bool before = answered.size() >= expected();
      answered.insert(type);
      bool now = answered.size() >= expected();
      if (!before && now) std::cout << "synced" << std::endl;
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  ctx.TryCancel();
  reader.join();
  return 0;
}
