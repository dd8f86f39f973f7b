#include "proxy/admin/admin_stats.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "proxy/xds/resource_validation.h"

namespace mesh::proxy::admin {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::core::v3::HealthStatus;
using envoy::config::core::v3::RoutingPriority;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using nlohmann::json;

// Where Envoy keeps each type's subscription stats.
std::string_view statPrefix(std::string_view typeUrl) {
  if (typeUrl == type_url::kCluster) return "cluster_manager.cds";
  if (typeUrl == type_url::kEndpoint) return "cluster_manager.eds";
  if (typeUrl == type_url::kListener) return "listener_manager.lds";
  // Envoy counts SDS per secret (sds.NAME.*); the one ADS subscription is counted here.
  if (typeUrl == type_url::kSecret) return "control_plane.sds";
  return "listener_manager.rds";
}

bool keep(const std::string& name, const std::string& filter) {
  return filter.empty() || RE2::PartialMatch(name, filter);
}

struct Thresholds {
  uint32_t maxConnections = 1024, maxPendingRequests = 1024, maxRequests = 1024, maxRetries = 3;  // Envoy's defaults
};

Thresholds thresholdsOf(const Cluster& c, RoutingPriority priority) {
  Thresholds t;
  for (const auto& th : c.circuit_breakers().thresholds()) {
    if (th.priority() != priority) continue;
    if (th.has_max_connections()) t.maxConnections = th.max_connections().value();
    if (th.has_max_pending_requests()) t.maxPendingRequests = th.max_pending_requests().value();
    if (th.has_max_requests()) t.maxRequests = th.max_requests().value();
    if (th.has_max_retries()) t.maxRetries = th.max_retries().value();
  }
  return t;
}

struct Host {
  std::string address;  // "ip:port"
  std::string ip;
  uint32_t port = 0;
  std::string hostname;
  HealthStatus health = envoy::config::core::v3::UNKNOWN;
  uint32_t weight = 1;
  std::string region, zone, subZone;
  uint32_t priority = 0;
};

struct ClusterRow {
  std::string name;
  const Cluster* cluster;
  bool addedViaApi;
  std::vector<Host> hosts;
};

std::vector<Host> hostsOf(const ClusterLoadAssignment& cla) {
  std::vector<Host> out;
  for (const auto& locality : cla.endpoints())
    for (const auto& lb : locality.lb_endpoints()) {
      if (!lb.endpoint().address().has_socket_address()) continue;
      const auto& sa = lb.endpoint().address().socket_address();
      Host h;
      h.ip = sa.address();
      h.port = sa.port_value();
      h.address = fmt::format("{}:{}", sa.address(), sa.port_value());
      h.hostname = lb.endpoint().hostname();
      h.health = lb.health_status();
      h.weight = lb.has_load_balancing_weight() ? lb.load_balancing_weight().value() : 1;
      h.region = locality.locality().region();
      h.zone = locality.locality().zone();
      h.subZone = locality.locality().sub_zone();
      h.priority = locality.priority();
      out.push_back(std::move(h));
    }
  return out;
}

std::vector<ClusterRow> rows(const XdsView& view, const Cluster& xds) {
  std::vector<ClusterRow> out;
  out.push_back(ClusterRow{xds.name(), &xds, false, hostsOf(xds.load_assignment())});
  for (const auto& [name, held] : view.active->clusters) {
    ClusterRow row{name, &held.resource, true, {}};
    std::string eds = edsServiceName(held.resource);
    if (eds.empty()) row.hosts = hostsOf(held.resource.load_assignment());
    else if (auto it = view.active->endpoints.find(eds); it != view.active->endpoints.end())
      row.hosts = hostsOf(it->second.resource);
    out.push_back(std::move(row));
  }
  std::ranges::sort(out, {}, &ClusterRow::name);
  return out;
}

Cluster xdsCluster(const std::string& xdsAddress) {
  Cluster c;
  c.set_name("xds-grpc");
  auto colon = xdsAddress.rfind(':');
  auto* sa = c.mutable_load_assignment()->add_endpoints()->add_lb_endpoints()->mutable_endpoint()
                 ->mutable_address()->mutable_socket_address();
  std::string host = xdsAddress.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  sa->set_address(host);
  sa->set_port_value(colon == std::string::npos ? 0 : static_cast<uint32_t>(std::atoi(xdsAddress.c_str() + colon + 1)));
  return c;
}

// Envoy's health_flags text for what EDS said.
std::string healthFlags(HealthStatus s) {
  switch (s) {
    case envoy::config::core::v3::UNHEALTHY:
    case envoy::config::core::v3::DRAINING:
    case envoy::config::core::v3::TIMEOUT: return "/failed_eds_health";
    case envoy::config::core::v3::DEGRADED: return "/degraded_eds_health";
    default: return "healthy";
  }
}

// What Envoy reports per host: a host EDS did not mark is HEALTHY, TIMEOUT counts as UNHEALTHY.
std::string edsHealthName(HealthStatus s) {
  switch (s) {
    case envoy::config::core::v3::UNHEALTHY:
    case envoy::config::core::v3::TIMEOUT: return "UNHEALTHY";
    case envoy::config::core::v3::DRAINING: return "DRAINING";
    case envoy::config::core::v3::DEGRADED: return "DEGRADED";
    default: return "HEALTHY";
  }
}

}  // namespace

std::vector<StatValue> statValues(const ServerStats& s) {
  std::vector<StatValue> out;
  for (const auto& [type, ts] : s.xds.types) {
    std::string prefix(statPrefix(type));
    out.push_back({prefix + ".update_attempt", true, ts.updateAttempt});
    out.push_back({prefix + ".update_success", true, ts.updateSuccess});
    out.push_back({prefix + ".update_rejected", true, ts.updateRejected});
  }
  out.push_back({"cluster_manager.active_clusters", false, s.activeClusters});
  out.push_back({"cluster_manager.warming_clusters", false, s.xds.warmingClusters});
  out.push_back({"listener_manager.total_listeners_active", false, s.activeListeners});
  out.push_back({"listener_manager.total_listeners_warming", false, s.xds.warmingListeners});
  out.push_back({"control_plane.connected_state", false, s.xds.connected ? 1u : 0u});
  out.push_back({"control_plane.stream_starts", true, s.xds.streamsStarted});
  out.push_back({"control_plane.stream_ends", true, s.xds.streamsEnded});
  out.push_back({"server.state", false, static_cast<uint64_t>(s.serverState)});
  out.push_back({"server.uptime", false, s.uptimeSeconds});
  out.insert(out.end(), s.dataPlane.begin(), s.dataPlane.end());
  std::ranges::sort(out, {}, &StatValue::name);
  return out;
}

std::vector<TextReadout> textReadouts(const ServerStats& s) {
  std::vector<TextReadout> out;
  for (const auto& [type, ts] : s.xds.types) {
    std::string prefix(statPrefix(type));
    out.push_back({prefix + ".version_text", ts.version});
    if (!ts.lastNack.empty()) out.push_back({prefix + ".last_nack_message", ts.lastNack});
  }
  out.push_back({"control_plane.stream_kind", s.xds.streamKind});
  std::ranges::sort(out, {}, &TextReadout::name);
  return out;
}

std::string statsText(const ServerStats& s, const std::string& filter) {
  // Envoy lists text readouts and values in one name-sorted list; readouts are quoted.
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& t : textReadouts(s))
    if (keep(t.name, filter)) lines.emplace_back(t.name, json(t.value).dump());
  for (const auto& v : statValues(s))
    if (keep(v.name, filter)) lines.emplace_back(v.name, std::to_string(v.value));
  std::ranges::sort(lines);
  std::string out;
  for (const auto& [name, value] : lines) out += fmt::format("{}: {}\n", name, value);
  return out;
}

std::string statsJson(const ServerStats& s, const std::string& filter) {
  json stats = json::array();
  for (const auto& t : textReadouts(s))
    if (keep(t.name, filter)) stats.push_back({{"name", t.name}, {"value", t.value}});
  for (const auto& v : statValues(s))
    if (keep(v.name, filter)) stats.push_back({{"name", v.name}, {"value", v.value}});
  return json{{"stats", stats}}.dump(2) + "\n";
}

std::string statsPrometheus(const ServerStats& s) {
  std::string out;
  for (const auto& v : statValues(s)) {
    std::string name = "envoy_" + v.name;
    std::ranges::replace(name, '.', '_');
    out += fmt::format("# TYPE {} {}\n{}{{}} {}\n", name, v.counter ? "counter" : "gauge", name, v.value);
  }
  return out;
}

std::string clustersText(const XdsView& view, const std::string& xdsAddress, const EjectedHosts& ejected) {
  Cluster xds = xdsCluster(xdsAddress);
  std::string out;
  for (const ClusterRow& row : rows(view, xds)) {
    const std::string& n = row.name;
    const Cluster& c = *row.cluster;
    out += fmt::format("{}::observability_name::{}\n", n, c.alt_stat_name().empty() ? n : c.alt_stat_name());
    for (auto [label, priority] : {std::pair{"default_priority", envoy::config::core::v3::DEFAULT},
                                   std::pair{"high_priority", envoy::config::core::v3::HIGH}}) {
      Thresholds t = thresholdsOf(c, priority);
      out += fmt::format("{0}::{1}::max_connections::{2}\n{0}::{1}::max_pending_requests::{3}\n"
                         "{0}::{1}::max_requests::{4}\n{0}::{1}::max_retries::{5}\n",
                         n, label, t.maxConnections, t.maxPendingRequests, t.maxRequests, t.maxRetries);
    }
    out += fmt::format("{}::added_via_api::{}\n", n, row.addedViaApi);
    if (std::string eds = edsServiceName(c); !eds.empty() && c.eds_cluster_config().service_name() == eds)
      out += fmt::format("{}::eds_service_name::{}\n", n, eds);
    for (const Host& h : row.hosts) {
      std::string p = fmt::format("{}::{}", n, h.address);
      // Envoy appends one flag per reason; "healthy" only when there is none.
      std::string flags = healthFlags(h.health);
      if (ejected.contains(p)) flags = (flags == "healthy" ? "" : flags) + "/failed_outlier_check";
      out += fmt::format("{0}::hostname::{1}\n{0}::health_flags::{2}\n{0}::weight::{3}\n{0}::region::{4}\n"
                         "{0}::zone::{5}\n{0}::sub_zone::{6}\n{0}::canary::false\n{0}::priority::{7}\n"
                         "{0}::success_rate::-1\n{0}::local_origin_success_rate::-1\n",
                         p, h.hostname, flags, h.weight, h.region, h.zone, h.subZone, h.priority);
    }
  }
  return out;
}

std::string clustersJson(const XdsView& view, const std::string& xdsAddress, const EjectedHosts& ejected) {
  // envoy.admin.v3.Clusters in proto JSON: default values left out, as Envoy prints it.
  Cluster xds = xdsCluster(xdsAddress);
  json statuses = json::array();
  for (const ClusterRow& row : rows(view, xds)) {
    const Cluster& c = *row.cluster;
    json cs = {{"name", row.name}, {"observability_name", c.alt_stat_name().empty() ? row.name : c.alt_stat_name()}};
    if (row.addedViaApi) cs["added_via_api"] = true;
    json thresholds = json::array();
    for (auto priority : {envoy::config::core::v3::DEFAULT, envoy::config::core::v3::HIGH}) {
      Thresholds t = thresholdsOf(c, priority);
      json th = {{"max_connections", t.maxConnections}, {"max_pending_requests", t.maxPendingRequests},
                 {"max_requests", t.maxRequests}, {"max_retries", t.maxRetries}};
      if (priority == envoy::config::core::v3::HIGH) th["priority"] = "HIGH";
      thresholds.push_back(std::move(th));
    }
    cs["circuit_breakers"] = {{"thresholds", thresholds}};
    if (std::string eds = edsServiceName(c); !eds.empty() && c.eds_cluster_config().service_name() == eds)
      cs["eds_service_name"] = eds;
    json hosts = json::array();
    for (const Host& h : row.hosts) {
      json hs = {{"address", {{"socket_address", {{"address", h.ip}, {"port_value", h.port}}}}},
                 {"health_status", {{"eds_health_status", edsHealthName(h.health)}}},
                 {"weight", h.weight}};
      if (ejected.contains(fmt::format("{}::{}", row.name, h.address))) hs["health_status"]["failed_outlier_check"] = true;
      if (!h.hostname.empty()) hs["hostname"] = h.hostname;
      json locality = json::object();
      if (!h.region.empty()) locality["region"] = h.region;
      if (!h.zone.empty()) locality["zone"] = h.zone;
      if (!h.subZone.empty()) locality["sub_zone"] = h.subZone;
      hs["locality"] = locality;
      if (h.priority) hs["priority"] = h.priority;
      hosts.push_back(std::move(hs));
    }
    if (!hosts.empty()) cs["host_statuses"] = hosts;
    statuses.push_back(std::move(cs));
  }
  return json{{"cluster_statuses", statuses}}.dump(2) + "\n";
}

}  // namespace mesh::proxy::admin
