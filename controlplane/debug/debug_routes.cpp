#include "controlplane/debug/debug_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "controlplane/xds/xds_resource.h"

namespace mesh::debug {
namespace {

using nlohmann::json;

monitoring::HttpResponse jsonResponse(const json& body) {
  return monitoring::HttpResponse{200, "application/json", body.dump(2) + "\n", {}};
}

// Istio's SyncStatus field prefixes per type.
constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
    {xds::type_url::kCluster, "cluster"},
    {xds::type_url::kListener, "listener"},
    {xds::type_url::kRoute, "route"},
    {xds::type_url::kEndpoint, "endpoint"},
};

json syncz(const server::AdsServer& ads) {
  auto proxies = ads.proxies();
  std::ranges::sort(proxies, {}, &server::ProxyStatus::name);
  json out = json::array();
  for (const server::ProxyStatus& p : proxies) {
    json j = {{"cluster_id", p.clusterId},
              {"proxy", p.name},
              {"proxy_id", p.id},
              {"istio_version", p.istioVersion},
              {"stream", p.streamKind}};
    for (auto [type, prefix] : kTypes) {
      auto it = p.types.find(std::string(type));
      std::string pre(prefix);
      if (it == p.types.end()) continue;  // not subscribed: proxy-status shows NOT SENT
      const server::TypeSyncStatus& s = it->second;
      j[pre + "_sent"] = s.sentNonce;
      j[pre + "_acked"] = s.ackedNonce;
      j[pre + "_sent_generation"] = s.snapshotSent;
      j[pre + "_acked_generation"] = s.snapshotAcked;
      j[pre + "_resources"] = s.resourcesSent;
      if (!s.nackMessage.empty()) j[pre + "_nack"] = s.nackMessage;
    }
    out.push_back(std::move(j));
  }
  return out;
}

json configErrors(const server::AdsServer& ads) {
  json out = json::array();
  auto push = ads.current();
  if (!push) return out;
  for (const core::Diagnostic& d : push->snapshot->skipped())
    out.push_back({{"file", d.file}, {"line", d.line}, {"resource", d.resource}, {"field", d.field},
                   {"message", d.message}, {"severity", d.severity == core::Severity::Error ? "error" : "warning"}});
  return out;
}

}  // namespace

Result<void> addDebugRoutes(monitoring::RouteTable& routes, const server::AdsServer& ads) {
  if (auto r = routes.add("/debug/syncz", [&ads](const monitoring::HttpRequest&) { return jsonResponse(syncz(ads)); });
      !r)
    return r;
  return routes.add("/debug/config_errors", [&ads](const monitoring::HttpRequest&) {
    json body = {{"generation", ads.current() ? ads.current()->snapshot->version() : 0},
                 {"errors", configErrors(ads)}};
    return jsonResponse(body);
  });
}

}  // namespace mesh::debug
