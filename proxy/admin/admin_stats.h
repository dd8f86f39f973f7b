// The stats and cluster views of meshproxy's admin endpoint, rendered from the xDS client's
// counters and config: /stats (Envoy's "name: value" text, or ?format=json), /stats/prometheus
// (Envoy's envoy_* names), /clusters (Envoy's "cluster::host::field::value" text, or
// ?format=json shaped as envoy.admin.v3.Clusters). Pure functions called on the admin thread.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "proxy/xds/ads_state.h"

namespace mesh::proxy::admin {

struct StatValue {
  std::string name;   // Envoy's dotted name: "cluster_manager.cds.update_success"
  bool counter = false;  // else a gauge
  uint64_t value = 0;
};
struct TextReadout {
  std::string name;
  std::string value;
};

struct ServerStats {
  XdsStats xds;
  size_t activeClusters = 0;
  size_t activeListeners = 0;
  uint64_t uptimeSeconds = 0;
  int serverState = 0;  // Envoy's server.state: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING
  std::vector<StatValue> dataPlane;  // the traffic path's own counters ("dataplane.*")
};

std::vector<StatValue> statValues(const ServerStats& stats);
std::vector<TextReadout> textReadouts(const ServerStats& stats);

// `filter` is an RE2 pattern matched anywhere in the name ("" keeps all); the caller has
// checked that it compiles.
std::string statsText(const ServerStats& stats, const std::string& filter);
std::string statsJson(const ServerStats& stats, const std::string& filter);
std::string statsPrometheus(const ServerStats& stats);

// Hosts the data plane's outlier detection has ejected, as "<cluster>::<ip>:<port>": shown as
// Envoy's /failed_outlier_check health flag (text) and failed_outlier_check (JSON).
using EjectedHosts = std::set<std::string, std::less<>>;

std::string clustersText(const XdsView& view, const std::string& xdsAddress, const EjectedHosts& ejected = {});
std::string clustersJson(const XdsView& view, const std::string& xdsAddress, const EjectedHosts& ejected = {});

}  // namespace mesh::proxy::admin
