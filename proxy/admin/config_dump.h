// /config_dump for meshproxy's admin endpoint: what the xDS client holds, as Envoy's admin v3
// ConfigDump (BootstrapConfigDump, ClustersConfigDump, EndpointsConfigDump with include_eds,
// ListenersConfigDump, ScopedRoutesConfigDump, RoutesConfigDump, SecretsConfigDump, in Envoy's
// order), printed as Envoy prints it (proto field names, "@type" in every Any), so
// `meshctl proxy-config … --file` and Envoy-reading tools take it. Pure functions; the admin
// server's I/O thread calls them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "proxy/xds/ads_state.h"

namespace mesh::proxy::admin {

// What the bootstrap section shows besides the node: how this proxy reaches meshd and where its
// admin endpoint listens.
struct BootstrapInfo {
  envoy::config::core::v3::Node node;
  std::string xdsAddress;    // "HOST:PORT"
  std::string adminAddress;  // "HOST:PORT"
  bool delta = true;         // the ADS flavour in use
  std::chrono::system_clock::time_point startedAt;
};

// A Secret served by meshproxy's certificate agent ("default", "ROOTCA"), which Envoy would
// have received over SDS from Istio's agent; dumped among dynamic_active_secrets, redacted.
using DumpedSecret = XdsResource<envoy::extensions::transport_sockets::tls::v3::Secret>;

struct ConfigDumpQuery {
  bool includeEds = false;
  std::string resource;            // Envoy's ?resource=: one repeated field, e.g. dynamic_active_clusters
  std::vector<std::string> mask;   // Envoy's ?mask=: field paths kept in each config (or resource)
};

// Secrets (the agent's, then those fetched over ADS) have private keys redacted as Envoy's are.
envoy::admin::v3::ConfigDump buildConfigDump(const XdsView& view, const BootstrapInfo& info, bool includeEds,
                                             const std::vector<DumpedSecret>& agentSecrets = {});

// The JSON body of /config_dump. NotFound when `resource` names no field of any config; Usage
// when a mask path names no field.
Result<std::string> configDumpJson(const XdsView& view, const BootstrapInfo& info, const ConfigDumpQuery& query,
                                   const std::vector<DumpedSecret>& agentSecrets = {});

// A message as Envoy's admin prints it: proto field names, two-space indent, Any by type URL
// with every Envoy type known.
Result<std::string> toEnvoyJson(const google::protobuf::Message& message);

}  // namespace mesh::proxy::admin
