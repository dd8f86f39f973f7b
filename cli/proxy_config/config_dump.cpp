#include "cli/proxy_config/config_dump.h"

#include <fmt/format.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::cli::pc {

namespace admin = envoy::admin::v3;

namespace {

std::string noSection(std::string_view typeName) {
  return fmt::format("config dump has no configuration type {}{}", kTypeUrlPrefix, typeName);
}

}  // namespace

template <class T>
Result<T> ConfigDumpView::section(std::string_view typeName) const {
  // The last section of the type wins, as in istioctl's getSection.
  const google::protobuf::Any* found = nullptr;
  for (const auto& config : dump_.configs())
    if (typeNameOf(config.type_url()) == typeName) found = &config;
  if (found == nullptr) return fail(ErrorCode::InvalidInput, noSection(typeName));
  T out;
  if (!unpackAny(*found, out))
    return fail(ErrorCode::InvalidInput, fmt::format("cannot decode {} in the config dump", typeName));
  return out;
}

Result<admin::BootstrapConfigDump> ConfigDumpView::bootstrap() const {
  return section<admin::BootstrapConfigDump>(admin::BootstrapConfigDump::descriptor()->full_name());
}
Result<admin::ClustersConfigDump> ConfigDumpView::clusters() const {
  return section<admin::ClustersConfigDump>(admin::ClustersConfigDump::descriptor()->full_name());
}
Result<admin::ListenersConfigDump> ConfigDumpView::listeners() const {
  return section<admin::ListenersConfigDump>(admin::ListenersConfigDump::descriptor()->full_name());
}
Result<admin::RoutesConfigDump> ConfigDumpView::routes() const {
  return section<admin::RoutesConfigDump>(admin::RoutesConfigDump::descriptor()->full_name());
}
Result<admin::EndpointsConfigDump> ConfigDumpView::endpoints() const {
  auto s = section<admin::EndpointsConfigDump>(admin::EndpointsConfigDump::descriptor()->full_name());
  if (!s)
    return fail(ErrorCode::InvalidInput,
                fmt::format("endpoints not found (was include_eds=true used?): {}", s.error().message));
  return s;
}
Result<admin::SecretsConfigDump> ConfigDumpView::secrets() const {
  return section<admin::SecretsConfigDump>(admin::SecretsConfigDump::descriptor()->full_name());
}

Result<admin::EcdsConfigDump> ConfigDumpView::ecds() const {
  const std::string& name = admin::EcdsConfigDump::descriptor()->full_name();
  admin::EcdsConfigDump merged;
  bool any = false;
  for (const auto& config : dump_.configs()) {
    if (typeNameOf(config.type_url()) != name) continue;
    admin::EcdsConfigDump part;
    if (!unpackAny(config, part))
      return fail(ErrorCode::InvalidInput, fmt::format("cannot decode {} in the config dump", name));
    for (auto& f : *part.mutable_ecds_filters()) *merged.add_ecds_filters() = std::move(f);
    any = true;
  }
  if (!any) return fail(ErrorCode::InvalidInput, noSection(name));
  return merged;
}

Result<admin::ClustersConfigDump> ConfigDumpView::dynamicClusters() const {
  auto dump = clusters();
  if (!dump) return dump;
  std::vector<admin::ClustersConfigDump_DynamicCluster> dac(dump->dynamic_active_clusters().begin(),
                                                            dump->dynamic_active_clusters().end());
  auto nameOf = [](const admin::ClustersConfigDump_DynamicCluster& c) {
    envoy::config::cluster::v3::Cluster cluster;
    unpackAny(c.cluster(), cluster);
    return cluster.name();
  };
  goSortSlice(dac, [&](const auto& a, const auto& b) { return nameOf(a) < nameOf(b); });
  admin::ClustersConfigDump out;
  for (auto& c : dac) {
    c.clear_version_info();
    c.clear_last_updated();
    *out.add_dynamic_active_clusters() = std::move(c);
  }
  return out;
}

Result<admin::ListenersConfigDump> ConfigDumpView::dynamicListeners() const {
  auto dump = listeners();
  if (!dump) return dump;
  std::vector<admin::ListenersConfigDump_DynamicListener> dal;
  for (auto l : dump->dynamic_listeners()) {
    // A reloaded listener has an active and a draining state; only the active one compares.
    l.clear_draining_state();
    if (l.has_active_state()) dal.push_back(std::move(l));
  }
  auto nameOf = [](const admin::ListenersConfigDump_DynamicListener& l) {
    envoy::config::listener::v3::Listener listener;
    unpackAny(l.active_state().listener(), listener);
    return listener.name();
  };
  goSortSlice(dal, [&](const auto& a, const auto& b) { return nameOf(a) < nameOf(b); });
  admin::ListenersConfigDump out;
  for (auto& l : dal) {
    l.mutable_active_state()->clear_version_info();
    l.mutable_active_state()->clear_last_updated();
    l.clear_name();
    *out.add_dynamic_listeners() = std::move(l);
  }
  return out;
}

Result<admin::RoutesConfigDump> ConfigDumpView::dynamicRoutes() const {
  auto dump = routes();
  if (!dump) return dump;
  std::vector<admin::RoutesConfigDump_DynamicRouteConfig> drc(dump->dynamic_route_configs().begin(),
                                                              dump->dynamic_route_configs().end());
  auto nameOf = [](const admin::RoutesConfigDump_DynamicRouteConfig& r) {
    envoy::config::route::v3::RouteConfiguration route;
    unpackAny(r.route_config(), route);
    return route.name();
  };
  goSortSlice(drc, [&](const auto& a, const auto& b) { return nameOf(a) < nameOf(b); });
  admin::RoutesConfigDump out;
  for (auto& r : drc) {
    // Virtual hosts may come in any order too.
    envoy::config::route::v3::RouteConfiguration route;
    unpackAny(r.route_config(), route);
    std::vector<envoy::config::route::v3::VirtualHost> hosts(route.virtual_hosts().begin(),
                                                             route.virtual_hosts().end());
    goSortSlice(hosts, [](const auto& a, const auto& b) { return a.name() < b.name(); });
    route.clear_virtual_hosts();
    for (auto& h : hosts) *route.add_virtual_hosts() = std::move(h);
    r.mutable_route_config()->set_type_url(std::string(kTypeUrlPrefix) + route.GetDescriptor()->full_name());
    r.mutable_route_config()->set_value(route.SerializeAsString());
    r.clear_version_info();
    r.clear_last_updated();
    *out.add_dynamic_route_configs() = std::move(r);
  }
  return out;
}

std::optional<google::protobuf::Timestamp> ConfigDumpView::lastUpdatedDynamicRoute() const {
  auto dump = routes();
  if (!dump) return std::nullopt;
  std::optional<google::protobuf::Timestamp> newest;
  for (const auto& r : dump->dynamic_route_configs()) {
    if (!r.has_last_updated()) continue;
    const auto& t = r.last_updated();
    bool after =
        !newest || t.seconds() > newest->seconds() || (t.seconds() == newest->seconds() && t.nanos() > newest->nanos());
    if (after && (t.seconds() > 0 || (t.seconds() == 0 && t.nanos() > 0))) newest = t;
  }
  return newest;
}

}  // namespace mesh::cli::pc
