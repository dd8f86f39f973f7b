// The load client's protocol logic against the generated Envoy messages: hand-decoded
// responses read what protoc's classes wrote, hand-encoded requests parse as the requests
// Envoy sends, and a simulated proxy subscribes in Envoy's order.
#include <doctest/doctest.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "bench/xds_load/sim_proxy.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace mesh::bench {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

Cluster edsCluster(const std::string& name, const std::string& serviceName = "") {
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::EDS);
  c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  if (!serviceName.empty()) c.mutable_eds_cluster_config()->set_service_name(serviceName);
  c.mutable_connect_timeout()->set_seconds(10);
  return c;
}

Listener httpListener(const std::string& name, const std::string& route) {
  Listener l;
  l.set_name(name);
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(route);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* filter = l.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return l;
}

template <typename M>
Response decode(const M& message, bool delta) {
  std::string bytes = message.SerializeAsString();
  google::protobuf::io::ArrayInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  Response r;
  REQUIRE(decodeResponse(in, delta, r));
  return r;
}

DiscoveryResponse sotw(XdsType t, const std::string& version, const std::string& nonce) {
  DiscoveryResponse r;
  r.set_type_url(std::string(typeUrl(t)));
  r.set_version_info(version);
  r.set_nonce(nonce);
  return r;
}

DiscoveryRequest parseRequest(const std::string& bytes) {
  DiscoveryRequest r;
  REQUIRE(r.ParseFromString(bytes));
  return r;
}

std::vector<std::string> names(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

TEST_CASE("responses decode to what a simulated Envoy acts on") {
  DiscoveryResponse cds = sotw(XdsType::Cluster, "7", "n1");
  cds.add_resources()->PackFrom(edsCluster("outbound|80||a.ns.svc.cluster.local"));
  cds.add_resources()->PackFrom(edsCluster("outbound|80|v1|a.ns.svc.cluster.local", "eds-name"));
  Cluster passthrough;
  passthrough.set_name("PassthroughCluster");
  passthrough.set_type(Cluster::ORIGINAL_DST);
  cds.add_resources()->PackFrom(passthrough);
  Response r = decode(cds, false);
  CHECK(typeOf(r.typeUrl) == XdsType::Cluster);
  CHECK(r.version == "7");
  CHECK(r.nonce == "n1");
  CHECK(r.resourceCount == 3);
  REQUIRE(r.clusters.size() == 3);
  CHECK(r.clusters[0].second == "outbound|80||a.ns.svc.cluster.local");  // no service_name: the cluster name
  CHECK(r.clusters[1].second == "eds-name");
  CHECK(r.clusters[2].second.empty());

  DeltaDiscoveryResponse lds;
  lds.set_type_url(std::string(typeUrl(XdsType::Listener)));
  lds.set_system_version_info("3");
  lds.set_nonce("n2");
  auto* res = lds.add_resources();
  res->set_name("0.0.0.0_8080");
  res->set_version("abc");
  res->mutable_resource()->PackFrom(httpListener("0.0.0.0_8080", "8080"));
  lds.add_removed_resources("0.0.0.0_9090");
  Response d = decode(lds, true);
  CHECK(d.version == "3");
  REQUIRE(d.listeners.size() == 1);
  CHECK(d.listeners[0].first == "0.0.0.0_8080");
  CHECK(d.listeners[0].second == std::vector<std::string>{"8080"});
  CHECK(d.removed == std::vector<std::string>{"0.0.0.0_9090"});
  Response again = decode(lds, true);
  CHECK(again.fingerprint == d.fingerprint);
}

TEST_CASE("a state-of-the-world proxy subscribes like Envoy: CDS, EDS, LDS, RDS, and ACKs each") {
  NameSets sets;
  SimProxy proxy("\x0a\x04node", false, sets);  // Node{id: "node"}
  SimProxy::Step start = proxy.start();
  REQUIRE(start.requests.size() == 1);
  DiscoveryRequest first = parseRequest(start.requests[0]);
  CHECK(first.node().id() == "node");
  CHECK(first.type_url() == typeUrl(XdsType::Cluster));
  CHECK(first.resource_names_size() == 0);

  DiscoveryResponse cds = sotw(XdsType::Cluster, "1", "c1");
  cds.add_resources()->PackFrom(edsCluster("b"));
  cds.add_resources()->PackFrom(edsCluster("a"));
  SimProxy::Accepted a = proxy.onResponse(decode(cds, false));
  CHECK(a.version == 1);
  REQUIRE(a.requests.size() == 2);
  DiscoveryRequest ack = parseRequest(a.requests[0]);
  CHECK(ack.type_url() == typeUrl(XdsType::Cluster));
  CHECK(ack.version_info() == "1");
  CHECK(ack.response_nonce() == "c1");
  CHECK_FALSE(ack.has_node());  // Istio's bootstrap: node on the first message only
  DiscoveryRequest eds = parseRequest(a.requests[1]);
  CHECK(eds.type_url() == typeUrl(XdsType::Endpoint));
  CHECK(names(eds.resource_names()) == std::vector<std::string>{"a", "b"});
  CHECK(a.subscribed == std::vector<XdsType>{XdsType::Endpoint});
  CHECK_FALSE(proxy.ready());

  a = proxy.onResponse(decode(sotw(XdsType::Endpoint, "1", "e1"), false));
  REQUIRE(a.requests.size() == 2);
  CHECK(parseRequest(a.requests[0]).response_nonce() == "e1");
  CHECK(names(parseRequest(a.requests[0]).resource_names()) == std::vector<std::string>{"a", "b"});
  CHECK(parseRequest(a.requests[1]).type_url() == typeUrl(XdsType::Listener));

  DiscoveryResponse lds = sotw(XdsType::Listener, "1", "l1");
  lds.add_resources()->PackFrom(httpListener("l", "r"));
  a = proxy.onResponse(decode(lds, false));
  REQUIRE(a.requests.size() == 2);
  DiscoveryRequest rds = parseRequest(a.requests[1]);
  CHECK(rds.type_url() == typeUrl(XdsType::Route));
  CHECK(names(rds.resource_names()) == std::vector<std::string>{"r"});
  CHECK_FALSE(proxy.ready());
  proxy.onResponse(decode(sotw(XdsType::Route, "1", "r1"), false));
  CHECK(proxy.ready());

  // A new generation drops cluster b: the EDS subscription follows, with the last EDS nonce.
  DiscoveryResponse cds2 = sotw(XdsType::Cluster, "2", "c2");
  cds2.add_resources()->PackFrom(edsCluster("a"));
  a = proxy.onResponse(decode(cds2, false));
  CHECK(a.lastVersion == 1);
  CHECK(a.version == 2);
  REQUIRE(a.requests.size() == 2);
  DiscoveryRequest eds2 = parseRequest(a.requests[1]);
  CHECK(names(eds2.resource_names()) == std::vector<std::string>{"a"});
  CHECK(eds2.response_nonce() == "e1");
  CHECK(eds2.version_info() == "1");
}

TEST_CASE("a delta proxy sends only subscription changes and bare ACKs") {
  NameSets sets;
  SimProxy proxy("\x0a\x04node", true, sets);
  DeltaDiscoveryRequest first;
  REQUIRE(first.ParseFromString(proxy.start().requests[0]));
  CHECK(first.node().id() == "node");
  CHECK(first.resource_names_subscribe_size() == 0);  // CDS: implicit wildcard

  auto cds = [](const std::string& version, const std::string& nonce, std::vector<std::string> add,
                std::vector<std::string> remove) {
    DeltaDiscoveryResponse r;
    r.set_type_url(std::string(typeUrl(XdsType::Cluster)));
    r.set_system_version_info(version);
    r.set_nonce(nonce);
    for (const auto& n : add) {
      auto* res = r.add_resources();
      res->set_name(n);
      res->set_version(n + version);
      res->mutable_resource()->PackFrom(edsCluster(n));
    }
    for (const auto& n : remove) r.add_removed_resources(n);
    return r;
  };
  SimProxy::Accepted a = proxy.onResponse(decode(cds("1", "c1", {"a", "b"}, {}), true));
  REQUIRE(a.requests.size() == 2);
  DeltaDiscoveryRequest ack, sub;
  REQUIRE(ack.ParseFromString(a.requests[0]));
  CHECK(ack.response_nonce() == "c1");
  CHECK(ack.resource_names_subscribe_size() == 0);
  REQUIRE(sub.ParseFromString(a.requests[1]));
  CHECK(sub.type_url() == typeUrl(XdsType::Endpoint));
  CHECK(names(sub.resource_names_subscribe()) == std::vector<std::string>{"a", "b"});

  a = proxy.onResponse(decode(cds("2", "c2", {"c"}, {"a"}), true));
  REQUIRE(a.requests.size() == 2);
  DeltaDiscoveryRequest change;
  REQUIRE(change.ParseFromString(a.requests[1]));
  CHECK(names(change.resource_names_subscribe()) == std::vector<std::string>{"c"});
  CHECK(names(change.resource_names_unsubscribe()) == std::vector<std::string>{"a"});
  CHECK(change.response_nonce().empty());
}

}  // namespace
}  // namespace mesh::bench
