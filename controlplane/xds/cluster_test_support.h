// Test helpers for the CDS tests (cluster_*_test.cpp, connection_pool_test.cpp): the Clusters
// meshd generates for a sidecar from YAML text, parsed back from their bytes, by name; and the
// HttpProtocolOptions a cluster carries.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/cluster_generator.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace mesh::xds::cds_test {

// Every cluster a sidecar of `ns` sees in `yaml`.
inline std::map<std::string, envoy::config::cluster::v3::Cluster> sidecarClusters(const char* yaml,
                                                                                  const char* ns = "shop") {
  auto snap = mesh::testing::snapshotFromYaml(yaml, 1);
  auto proxy = mesh::testing::sidecarProxy("client", ns);
  auto scope = model::SidecarScope::compute(*snap, proxy);
  ResourceNames all;
  std::map<std::string, envoy::config::cluster::v3::Cluster> out;
  for (const auto& r : ClusterGenerator().generate(ProxyView{*snap, proxy, scope, nullptr}, all)) {
    envoy::config::cluster::v3::Cluster c;
    REQUIRE(c.ParseFromString(*r.body));
    out[r.name] = c;
  }
  return out;
}

// The cluster's envoy.extensions.upstreams.http.v3.HttpProtocolOptions, if it has them.
inline std::optional<envoy::extensions::upstreams::http::v3::HttpProtocolOptions> httpOptions(
    const envoy::config::cluster::v3::Cluster& c) {
  auto it = c.typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  if (it == c.typed_extension_protocol_options().end()) return std::nullopt;
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
  REQUIRE(it->second.UnpackTo(&http));
  return http;
}

}  // namespace mesh::xds::cds_test
