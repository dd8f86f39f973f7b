#include "proxy/admin/config_dump.h"

#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/xds/envoy_types.h"
#include "proxy/xds/sds_resources.h"

namespace mesh::proxy::admin {
namespace {

namespace gp = google::protobuf;
namespace av3 = envoy::admin::v3;

constexpr std::string_view kXdsClusterName = "xds-grpc";  // Istio's bootstrap name for it

gp::Timestamp timestampOf(std::chrono::system_clock::time_point t) {
  return gp::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

std::string typeVersion(const XdsSnapshot& s, std::string_view typeUrl) {
  auto it = s.typeVersions.find(typeUrl);
  return it == s.typeVersions.end() ? std::string() : it->second;
}

// "HOST:PORT" → a socket address; "[::1]:15010" keeps the bare IPv6 address.
envoy::config::core::v3::Address addressOf(std::string_view hostPort) {
  envoy::config::core::v3::Address a;
  auto colon = hostPort.rfind(':');
  std::string_view host = colon == std::string_view::npos ? hostPort : hostPort.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto* sa = a.mutable_socket_address();
  sa->set_address(std::string(host));
  unsigned port = 0;
  if (colon != std::string_view::npos)
    for (char ch : hostPort.substr(colon + 1)) port = port * 10 + static_cast<unsigned>(ch - '0');
  sa->set_port_value(port);
  return a;
}

envoy::config::cluster::v3::Cluster xdsCluster(const BootstrapInfo& info) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(std::string(kXdsClusterName));
  c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  c.mutable_connect_timeout()->set_seconds(1);
  auto* cla = c.mutable_load_assignment();
  cla->set_cluster_name(std::string(kXdsClusterName));
  *cla->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address() = addressOf(info.xdsAddress);
  return c;
}

av3::BootstrapConfigDump bootstrapDump(const BootstrapInfo& info) {
  av3::BootstrapConfigDump dump;
  auto* b = dump.mutable_bootstrap();
  *b->mutable_node() = info.node;
  auto* dyn = b->mutable_dynamic_resources();
  auto* ads = dyn->mutable_ads_config();
  ads->set_api_type(info.delta ? envoy::config::core::v3::ApiConfigSource::DELTA_GRPC
                               : envoy::config::core::v3::ApiConfigSource::GRPC);
  ads->set_transport_api_version(envoy::config::core::v3::V3);
  ads->add_grpc_services()->mutable_envoy_grpc()->set_cluster_name(std::string(kXdsClusterName));
  for (auto* source : {dyn->mutable_cds_config(), dyn->mutable_lds_config()}) {
    source->mutable_ads();
    source->set_resource_api_version(envoy::config::core::v3::V3);
  }
  *b->mutable_static_resources()->add_clusters() = xdsCluster(info);
  if (!info.adminAddress.empty()) *b->mutable_admin()->mutable_address() = addressOf(info.adminAddress);
  *dump.mutable_last_updated() = timestampOf(info.startedAt);
  return dump;
}

// The configs, unpacked, in Envoy's order.
// Envoy's SecretsConfigDump: every secret active, keys redacted.
std::unique_ptr<av3::SecretsConfigDump> secretsDump(const XdsSnapshot& active,
                                                    const std::vector<DumpedSecret>& agentSecrets) {
  auto dump = std::make_unique<av3::SecretsConfigDump>();
  auto add = [&dump](const std::string& name, const std::string& version, std::chrono::system_clock::time_point at,
                     envoy::extensions::transport_sockets::tls::v3::Secret secret) {
    redactSecret(secret);
    auto* s = dump->add_dynamic_active_secrets();
    s->set_name(name);
    s->set_version_info(version);
    *s->mutable_last_updated() = timestampOf(at);
    s->mutable_secret()->PackFrom(secret);
  };
  for (const DumpedSecret& s : agentSecrets) add(s.resource.name(), s.version, s.lastUpdated, s.resource);
  for (const auto& [name, held] : active.secrets) add(name, held.version, held.lastUpdated, held.resource);
  return dump;
}

std::vector<std::unique_ptr<gp::Message>> configs(const XdsView& view, const BootstrapInfo& info, bool includeEds,
                                                  const std::vector<DumpedSecret>& agentSecrets) {
  const XdsSnapshot& active = *view.active;
  const XdsSnapshot& warming = *view.warming;
  std::vector<std::unique_ptr<gp::Message>> out;
  out.push_back(std::make_unique<av3::BootstrapConfigDump>(bootstrapDump(info)));

  auto clusters = std::make_unique<av3::ClustersConfigDump>();
  clusters->set_version_info(typeVersion(active, type_url::kCluster));
  auto* xds = clusters->add_static_clusters();
  xds->mutable_cluster()->PackFrom(xdsCluster(info));
  *xds->mutable_last_updated() = timestampOf(info.startedAt);
  for (auto [map, warm] : {std::pair{&active.clusters, false}, std::pair{&warming.clusters, true}})
    for (const auto& [name, held] : *map) {
      auto* c = warm ? clusters->add_dynamic_warming_clusters() : clusters->add_dynamic_active_clusters();
      c->set_version_info(held.version);
      c->mutable_cluster()->PackFrom(held.resource);
      *c->mutable_last_updated() = timestampOf(held.lastUpdated);
    }
  out.push_back(std::move(clusters));

  if (includeEds) {
    auto endpoints = std::make_unique<av3::EndpointsConfigDump>();
    for (const auto& [name, held] : active.endpoints) {
      auto* e = endpoints->add_dynamic_endpoint_configs();
      e->set_version_info(held.version);
      e->mutable_endpoint_config()->PackFrom(held.resource);
      *e->mutable_last_updated() = timestampOf(held.lastUpdated);
    }
    out.push_back(std::move(endpoints));
  }

  auto listeners = std::make_unique<av3::ListenersConfigDump>();
  listeners->set_version_info(typeVersion(active, type_url::kListener));
  // One entry per name: the active state and, when a newer version warms, its warming state.
  std::map<std::string, av3::ListenersConfigDump::DynamicListener> byName;
  for (auto [map, warm] : {std::pair{&active.listeners, false}, std::pair{&warming.listeners, true}})
    for (const auto& [name, held] : *map) {
      auto& l = byName[name];
      l.set_name(name);
      auto* state = warm ? l.mutable_warming_state() : l.mutable_active_state();
      state->set_version_info(held.version);
      state->mutable_listener()->PackFrom(held.resource);
      *state->mutable_last_updated() = timestampOf(held.lastUpdated);
    }
  for (auto& [name, l] : byName) *listeners->add_dynamic_listeners() = std::move(l);
  out.push_back(std::move(listeners));

  out.push_back(std::make_unique<av3::ScopedRoutesConfigDump>());
  auto routes = std::make_unique<av3::RoutesConfigDump>();
  for (const auto& [name, held] : active.routes) {
    auto* r = routes->add_dynamic_route_configs();
    r->set_version_info(held.version);
    r->mutable_route_config()->PackFrom(held.resource);
    *r->mutable_last_updated() = timestampOf(held.lastUpdated);
  }
  out.push_back(std::move(routes));
  out.push_back(secretsDump(active, agentSecrets));
  return out;
}

bool trimPaths(gp::Message& message, const std::vector<std::string>& paths, int depth);

// An Any is trimmed inside its payload, as Envoy's admin does: unpack, trim, pack again.
bool trimAny(gp::Message& any, const std::vector<std::string>& paths, int depth) {
  const gp::Reflection* refl = any.GetReflection();
  const gp::FieldDescriptor* typeField = any.GetDescriptor()->FindFieldByNumber(1);
  const gp::FieldDescriptor* valueField = any.GetDescriptor()->FindFieldByNumber(2);
  std::unique_ptr<gp::Message> inner = EnvoyTypes::instance().newMessage(refl->GetString(any, typeField));
  if (!inner || !inner->ParseFromString(refl->GetString(any, valueField))) return false;
  if (!trimPaths(*inner, paths, depth + 1)) return false;
  refl->SetString(&any, valueField, inner->SerializeAsString());
  return true;
}

// Keeps only the fields `paths` (dotted field names) lead to; false when a path names no field.
bool trimPaths(gp::Message& message, const std::vector<std::string>& paths, int depth) {
  if (depth > 32) return false;
  if (message.GetDescriptor()->full_name() == "google.protobuf.Any") return trimAny(message, paths, depth);
  std::map<std::string, std::vector<std::string>, std::less<>> byField;  // field → rest paths
  std::set<std::string, std::less<>> whole;
  for (const std::string& p : paths) {
    auto dot = p.find('.');
    std::string head = p.substr(0, dot);
    if (!message.GetDescriptor()->FindFieldByName(head)) return false;
    if (dot == std::string::npos) whole.insert(head);
    else byField[head].push_back(p.substr(dot + 1));
  }
  const gp::Reflection* refl = message.GetReflection();
  std::vector<const gp::FieldDescriptor*> fields;
  refl->ListFields(message, &fields);
  for (const gp::FieldDescriptor* field : fields) {
    if (whole.contains(field->name())) continue;
    auto sub = byField.find(field->name());
    if (sub == byField.end() || field->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (sub != byField.end()) return false;  // a path through a scalar
      refl->ClearField(&message, field);
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0, n = refl->FieldSize(message, field); i < n; ++i)
        if (!trimPaths(*refl->MutableRepeatedMessage(&message, field, i), sub->second, depth + 1)) return false;
    } else if (!trimPaths(*refl->MutableMessage(&message, field), sub->second, depth + 1)) {
      return false;
    }
  }
  return true;
}

Result<void> trim(gp::Message& message, const std::vector<std::string>& paths) {
  if (paths.empty() || trimPaths(message, paths, 0)) return {};
  return fail(ErrorCode::Usage, fmt::format("mask {:?} names no field of {}", fmt::join(paths, ","),
                                            message.GetDescriptor()->full_name()));
}

}  // namespace

av3::ConfigDump buildConfigDump(const XdsView& view, const BootstrapInfo& info, bool includeEds,
                                const std::vector<DumpedSecret>& agentSecrets) {
  av3::ConfigDump dump;
  for (const auto& config : configs(view, info, includeEds, agentSecrets)) dump.add_configs()->PackFrom(*config);
  return dump;
}

Result<std::string> toEnvoyJson(const gp::Message& message) {
  gp::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = gp::util::BinaryToJsonString(&EnvoyTypes::instance().resolver(),
                                             "type.googleapis.com/" + message.GetDescriptor()->full_name(),
                                             message.SerializeAsString(), &json, options);
  if (!status.ok())
    return fail(ErrorCode::Internal, fmt::format("cannot print {}: {}", message.GetDescriptor()->full_name(),
                                                 status.ToString()));
  return json;
}

Result<std::string> configDumpJson(const XdsView& view, const BootstrapInfo& info, const ConfigDumpQuery& query,
                                   const std::vector<DumpedSecret>& agentSecrets) {
  av3::ConfigDump dump;
  bool matched = false;
  for (auto& config :
       configs(view, info, query.includeEds || query.resource == "dynamic_endpoint_configs", agentSecrets)) {
    if (query.resource.empty()) {
      // A config the mask describes no field of is left out.
      if (!trim(*config, query.mask)) continue;
      dump.add_configs()->PackFrom(*config);
      continue;
    }
    const gp::FieldDescriptor* field = config->GetDescriptor()->FindFieldByName(query.resource);
    if (!field || !field->is_repeated() || field->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    matched = true;
    const gp::Reflection* refl = config->GetReflection();
    for (int i = 0, n = refl->FieldSize(*config, field); i < n; ++i) {
      std::unique_ptr<gp::Message> element(refl->GetRepeatedMessage(*config, field, i).New());
      element->CopyFrom(refl->GetRepeatedMessage(*config, field, i));
      if (auto r = trim(*element, query.mask); !r) return fail(r.error().code, r.error().message);
      dump.add_configs()->PackFrom(*element);
    }
  }
  if (!query.resource.empty() && !matched)
    return fail(ErrorCode::NotFound, fmt::format("no config has a resource field {:?}", query.resource));
  return toEnvoyJson(dump);
}

}  // namespace mesh::proxy::admin
