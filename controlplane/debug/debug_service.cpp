#include "controlplane/debug/debug_service.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include "controlplane/debug/proxy_config_dump.h"
#include "controlplane/server/affected_types.h"
#include "core/version.h"

namespace mesh::debug {
namespace {

using grpc::Status;
using grpc::StatusCode;

google::protobuf::Timestamp timestampOf(std::chrono::system_clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Push order first (Istio's: CDS, EDS, LDS, RDS, SDS), then any other type by URL.
size_t typeRank(std::string_view typeUrl) {
  auto it = std::ranges::find(kConfigDumpTypes, typeUrl);
  return static_cast<size_t>(it - std::begin(kConfigDumpTypes));
}

bool typeLess(std::string_view a, std::string_view b) {
  size_t ra = typeRank(a), rb = typeRank(b);
  return ra != rb ? ra < rb : a < b;
}

// "cds" or a full type URL → the full type URL; "" when unknown.
std::string resolveTypeUrl(std::string_view requested) {
  for (std::string_view t : kConfigDumpTypes)
    if (requested == t || requested == xds::shortTypeName(t)) return std::string(t);
  return {};
}

// A proxy to answer about, and the config generation to answer from.
struct Target {
  server::ConnectedProxy proxy;
  std::shared_ptr<const server::PushContext> push;
};

Status findTarget(const server::AdsServer& ads, const std::string& key, Target& out) {
  if (key.empty())
    return Status(StatusCode::INVALID_ARGUMENT,
                  "name a proxy: its node id, or \"name.namespace\" as ListProxies shows");
  auto push = ads.current();
  if (!push || !push->snapshot) return Status(StatusCode::UNAVAILABLE, "meshd has not loaded its config yet");
  auto proxy = ads.connectedProxy(key);
  if (!proxy) {
    size_t n = ads.connected();
    return Status(StatusCode::NOT_FOUND,
                  fmt::format("proxy {:?} is not connected to this meshd ({} prox{} connected; ListProxies lists them)",
                              key, n, n == 1 ? "y is" : "ies are"));
  }
  out = Target{std::move(*proxy), std::move(push)};
  return Status::OK;
}

void fillSkipped(const core::Diagnostic& d, v1::SkippedConfig& out) {
  out.set_severity(d.severity == core::Severity::Error ? v1::SkippedConfig::ERROR : v1::SkippedConfig::WARNING);
  out.set_file(d.file);
  out.set_line(d.line);
  out.set_column(d.column);
  out.set_resource(d.resource);
  out.set_field(d.field);
  out.set_message(d.message);
}

}  // namespace

DebugService::DebugService(const server::AdsServer& ads, const xds::GeneratorSet& generators,
                           const PushHistory& history, DebugServiceOptions options)
    : ads_(ads), generators_(generators), history_(history), options_(std::move(options)) {}

Status DebugService::ListProxies(grpc::ServerContext*, const v1::ListProxiesRequest*,
                                 v1::ListProxiesResponse* response) {
  auto proxies = ads_.proxies();
  std::ranges::sort(proxies, [](const server::ProxyStatus& a, const server::ProxyStatus& b) {
    return std::tie(a.name, a.id) < std::tie(b.name, b.id);
  });
  for (const server::ProxyStatus& p : proxies) {
    v1::ProxySyncStatus* out = response->add_proxies();
    out->set_proxy_id(p.id);
    out->set_name(p.name);
    out->set_cluster_id(p.clusterId);
    out->set_meshd_instance(options_.instance);
    out->set_proxy_version(p.istioVersion);
    out->set_stream(p.streamKind);
    *out->mutable_connected_at() = timestampOf(p.connectedAt);
    std::vector<const std::pair<const std::string, server::TypeSyncStatus>*> types;
    for (const auto& entry : p.types) types.push_back(&entry);
    std::ranges::sort(types, [](auto* a, auto* b) { return typeLess(a->first, b->first); });
    for (const auto* entry : types) {
      const server::TypeSyncStatus& s = entry->second;
      v1::TypeSyncStatus* t = out->add_types();
      t->set_type_url(entry->first);
      t->set_sent_version(s.sentVersion);
      t->set_sent_nonce(s.sentNonce);
      t->set_acked_version(s.ackedVersion);
      t->set_acked_nonce(s.ackedNonce);
      t->set_last_nack(s.nackMessage);
      t->set_sent_generation(s.snapshotSent);
      t->set_acked_generation(s.snapshotAcked);
      t->set_resources(s.resourcesSent);
    }
  }
  return Status::OK;
}

Status DebugService::GetConfigDump(grpc::ServerContext*, const v1::GetConfigDumpRequest* request,
                                   envoy::admin::v3::ConfigDump* response) {
  Target target;
  if (Status s = findTarget(ads_, request->proxy(), target); !s.ok()) return s;
  ProxyConfigGenerator generator(generators_, *target.push, target.proxy.proxy);
  std::vector<GeneratedType> types;
  for (std::string_view type : kConfigDumpTypes) {
    auto generated = generator.generate(type, target.proxy.subscriptions);
    if (!generated) return Status(StatusCode::INTERNAL, generated.error().message);
    types.push_back(std::move(*generated));
  }
  auto dump = buildConfigDump(target.proxy.proxy, *target.push, types);
  if (!dump) return Status(StatusCode::INTERNAL, dump.error().message);
  *response = std::move(*dump);
  return Status::OK;
}

Status DebugService::GetGeneratedResources(grpc::ServerContext*, const v1::GetGeneratedResourcesRequest* request,
                                           v1::GetGeneratedResourcesResponse* response) {
  std::string typeUrl = resolveTypeUrl(request->type_url());
  if (typeUrl.empty())
    return Status(StatusCode::INVALID_ARGUMENT,
                  fmt::format("type_url {:?}: use cds, eds, lds, rds, sds or a full Envoy v3 type URL",
                              request->type_url()));
  Target target;
  if (Status s = findTarget(ads_, request->proxy(), target); !s.ok()) return s;
  std::optional<std::vector<std::string>> names;
  if (request->resource_names_size() > 0)
    names.emplace(request->resource_names().begin(), request->resource_names().end());
  ProxyConfigGenerator generator(generators_, *target.push, target.proxy.proxy);
  auto generated = generator.generate(typeUrl, target.proxy.subscriptions, names);
  if (!generated) return Status(StatusCode::INTERNAL, generated.error().message);
  response->set_type_url(typeUrl);
  response->set_generation(target.push->snapshot->version());
  response->set_subscribed(generated->subscribed);
  response->set_wildcard(generated->wildcard);
  for (const xds::XdsResource& r : generated->resources) {
    v1::GeneratedResource* out = response->add_resources();
    out->set_name(r.name);
    out->set_version(fmt::format("{:016x}", r.hash));  // as delta xDS sends it
    out->set_size_bytes(r.body->size());
    if (!request->names_only()) {
      out->mutable_resource()->set_type_url(typeUrl);
      out->mutable_resource()->set_value(*r.body);
    }
  }
  return Status::OK;
}

Status DebugService::GetPushStatus(grpc::ServerContext*, const v1::GetPushStatusRequest*, v1::PushStatus* response) {
  if (auto push = ads_.current(); push && push->snapshot) {
    response->set_generation(push->snapshot->version());
    *response->mutable_generation_time() = timestampOf(push->createdAt);
    for (const std::string& t : push->affectedTypes) response->add_affected_types(t);
    for (const core::Diagnostic& d : push->snapshot->skipped()) fillSkipped(d, *response->add_skipped_config());
  }
  response->set_connected_proxies(ads_.connected());
  PushHistory::View history = history_.view();
  std::vector<const std::string*> types;
  for (const auto& [type, stats] : history.types) types.push_back(&type);
  std::ranges::sort(types, [](auto* a, auto* b) { return typeLess(*a, *b); });
  for (const std::string* type : types) {
    const PushHistory::TypeStats& s = history.types.find(*type)->second;
    v1::TypePushStats* out = response->add_push_stats();
    out->set_type_url(*type);
    out->set_pushes(s.pushes);
    out->set_bytes(s.bytes);
    out->set_nacks(s.nacks);
    out->set_errors(s.errors);
    if (s.pushes > 0) *out->mutable_last_push() = timestampOf(s.lastPush);
  }
  for (const PushHistory::Push& p : history.pushes) {
    v1::PushEvent* out = response->add_recent_pushes();
    *out->mutable_time() = timestampOf(p.time);
    out->set_type_url(p.typeUrl);
    out->set_bytes(p.bytes);
    out->set_seconds(p.seconds);
  }
  for (const PushHistory::Error& e : history.errors) {
    v1::PushError* out = response->add_recent_errors();
    *out->mutable_time() = timestampOf(e.time);
    out->set_kind(e.kind == PushHistory::ErrorKind::Nack ? v1::PushError::NACK : v1::PushError::INTERNAL);
    out->set_proxy_id(e.proxyId);
    out->set_type_url(e.typeUrl);
    out->set_message(e.message);
  }
  return Status::OK;
}

Status DebugService::GetVersion(grpc::ServerContext*, const v1::GetVersionRequest*, v1::VersionInfo* response) {
  response->set_version(std::string(kVersion));
  response->set_git_revision(std::string(gitRevision()));
  response->set_meshd_instance(options_.instance);
  *response->mutable_started_at() = timestampOf(options_.startedAt);
  response->set_grpc_version(grpc::Version());
  constexpr int v = GOOGLE_PROTOBUF_VERSION;  // 3021012 → "3.21.12"
  response->set_protobuf_version(fmt::format("{}.{}.{}", v / 1000000, v / 1000 % 1000, v % 1000));
  return Status::OK;
}

}  // namespace mesh::debug

namespace mesh::debug {

Status DebugService::GetDistribution(grpc::ServerContext*, const v1::GetDistributionRequest* request,
                                     v1::Distribution* response) {
  if (request->kind().empty() || request->name().empty())
    return Status(StatusCode::INVALID_ARGUMENT, "name an object: its kind and name (and namespace)");
  auto push = ads_.current();
  if (!push || !push->snapshot) return Status(StatusCode::UNAVAILABLE, "meshd has not loaded its config yet");
  core::ResourceKey key{request->group(), request->kind(), request->namespace_(), request->name()};
  response->set_current_generation(push->snapshot->version());
  const server::ConfigGenerations::Entry* entry = push->generations ? push->generations->find(key) : nullptr;
  if (entry) {
    response->set_exists(!entry->deleted);
    response->set_revision(entry->revision);
    response->set_generation(entry->generation);
  }
  // Diagnostics name objects as core::Resource::displayName() does: "Kind name.namespace".
  std::string subject = key.namespace_.empty() ? fmt::format("{} {}", key.kind, key.name)
                                               : fmt::format("{} {}.{}", key.kind, key.name, key.namespace_);
  if (entry && !entry->deleted)
    for (const core::Diagnostic& d : push->snapshot->skipped())
      if (d.severity == core::Severity::Error && d.resource == subject) fillSkipped(d, *response->add_invalid());
  auto affected = server::typesAffectedBy(key);
  // A WorkloadEntry can change a DNS ServiceEntry's clusters: check CDS too (it is current
  // without a response when it did not change).
  if (key.kind == "WorkloadEntry") affected.emplace(xds::type_url::kCluster);
  auto proxies = ads_.proxies();
  std::ranges::sort(proxies, [](const server::ProxyStatus& a, const server::ProxyStatus& b) {
    return std::tie(a.name, a.id) < std::tie(b.name, b.id);
  });
  for (const server::ProxyStatus& p : proxies) {
    v1::ProxyDistribution* out = response->add_proxies();
    out->set_proxy_id(p.id);
    out->set_name(p.name);
    uint64_t acked = UINT64_MAX;
    std::vector<const std::pair<const std::string, server::TypeSyncStatus>*> types;
    for (const auto& typeStatus : p.types) types.push_back(&typeStatus);
    std::ranges::sort(types, [](auto* a, auto* b) { return typeLess(a->first, b->first); });
    for (const auto* t : types) {
      const server::TypeSyncStatus& s = t->second;
      // Only the types this kind can change matter: a proxy that rejected its clusters still
      // has a route change.
      if (!affected.empty() && !affected.contains(t->first)) continue;
      acked = std::min(acked, s.snapshotAcked);
      if (entry && s.snapshotAcked < entry->generation) {
        std::string name(xds::shortTypeName(t->first));
        if (name == "unknown") name = t->first;
        else
          for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out->add_lagging(s.nackMessage.empty() ? name : fmt::format("{} (NACK: {})", name, s.nackMessage));
      }
    }
    if (acked == UINT64_MAX) acked = 0;  // subscribes to none of the types
    out->set_acked_generation(acked);
    out->set_distributed(entry && acked >= entry->generation);
  }
  return Status::OK;
}

}  // namespace mesh::debug
