#include "controlplane/server/xds_connection.h"

#include <charconv>

#include <fmt/format.h>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/xds/xds_resource.h"

namespace mesh::server {
namespace {

// Istio's push order: clusters before the endpoints they need, listeners before routes.
constexpr std::string_view kPushOrder[] = {xds::type_url::kCluster, xds::type_url::kEndpoint,
                                           xds::type_url::kListener, xds::type_url::kRoute,
                                           xds::type_url::kSecret};

// LDS and CDS are "state of the world" types: an empty subscription means every resource.
bool wildcardByDefault(std::string_view typeUrl) {
  return typeUrl == xds::type_url::kListener || typeUrl == xds::type_url::kCluster;
}

std::string hashVersion(uint64_t h) { return fmt::format("{:016x}", h); }

uint64_t parseHashVersion(std::string_view v) {
  uint64_t h = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), h, 16);
  return ec == std::errc() && p == v.data() + v.size() ? h : 0;
}

}  // namespace

XdsConnection::XdsConnection(uint64_t id, model::Proxy proxy, bool delta, const xds::GeneratorSet& generators,
                             ConnectionHooks hooks)
    : id_(id), proxy_(std::move(proxy)), delta_(delta), generators_(generators), hooks_(std::move(hooks)) {}

XdsConnection::TypeState& XdsConnection::stateFor(const std::string& typeUrl) {
  std::lock_guard lock(statusMu_);  // status() iterates types_
  return types_[typeUrl];
}

std::string XdsConnection::nextNonce() { return fmt::format("{:x}-{}", id_, ++nonceCounter_); }

std::optional<xds::XdsResources> XdsConnection::generate(const std::string& typeUrl, const TypeState& st,
                                                        const PushContext& push) {
  const xds::Generator* gen = generators_.find(proxy_.generator, typeUrl);
  if (!gen || !push.snapshot) return xds::XdsResources{};
  try {
    model::SidecarScope scope = model::SidecarScope::compute(*push.snapshot, proxy_);
    xds::ProxyView view{*push.snapshot, proxy_, scope, push.cache.get()};
    xds::ResourceNames names;
    names.wildcard = st.wildcard;
    for (const std::string& n : st.names) names.names.push_back(n);
    xds::XdsResources out = gen->generate(view, names);
    if (!st.wildcard) std::erase_if(out, [&](const xds::XdsResource& r) { return !st.names.contains(r.name); });
    return out;
  } catch (const std::exception& e) {
    // Exceptions stop here (STYLE.md): the stream and every other proxy keep going.
    if (hooks_.onInternalError) hooks_.onInternalError(proxy_, typeUrl, e.what());
    return std::nullopt;
  }
}

void XdsConnection::respond(const std::string& typeUrl, TypeState& st, const PushContext& push, bool force) {
  auto started = std::chrono::steady_clock::now();
  std::optional<xds::XdsResources> generated = generate(typeUrl, st, push);
  if (!generated) return;
  xds::XdsResources& resources = *generated;
  std::map<std::string, uint64_t, std::less<>> now;
  for (const auto& r : resources) now.emplace(r.name, r.hash);
  std::string nonce;
  size_t bytes = 0;
  if (!delta_) {
    if (!force && now == st.sent) return;
    auto resp = std::make_shared<DiscoveryResponse>();
    resp->set_type_url(typeUrl);
    resp->set_version_info(std::to_string(push.snapshot ? push.snapshot->version() : 0));
    nonce = nextNonce();
    resp->set_nonce(nonce);
    for (const auto& r : resources) {
      auto* any = resp->add_resources();
      any->set_type_url(typeUrl);
      any->set_value(*r.body);
      bytes += r.body->size();
    }
    {
      std::lock_guard lock(statusMu_);
      st.status.sentVersion = resp->version_info();
    }
    hooks_.send(std::move(resp));
  } else {
    auto resp = std::make_shared<DeltaDiscoveryResponse>();
    for (const auto& r : resources) {
      auto it = st.sent.find(r.name);
      if (it != st.sent.end() && it->second == r.hash) continue;
      auto* res = resp->add_resources();
      res->set_name(r.name);
      res->set_version(hashVersion(r.hash));
      res->mutable_resource()->set_type_url(typeUrl);
      res->mutable_resource()->set_value(*r.body);
      bytes += r.body->size();
    }
    for (const auto& [name, hash] : st.sent)
      if (!now.contains(name) && (st.wildcard || st.names.contains(name))) resp->add_removed_resources(name);
    // Named subscriptions to resources that do not exist: say so, so the proxy stops waiting.
    if (force && !st.wildcard)
      for (const std::string& name : st.names)
        if (!now.contains(name) && !st.sent.contains(name)) resp->add_removed_resources(name);
    if (!force && resp->resources_size() == 0 && resp->removed_resources_size() == 0) return;
    resp->set_type_url(typeUrl);
    resp->set_system_version_info(std::to_string(push.snapshot ? push.snapshot->version() : 0));
    nonce = nextNonce();
    resp->set_nonce(nonce);
    {
      std::lock_guard lock(statusMu_);
      st.status.sentVersion = resp->system_version_info();
    }
    hooks_.sendDelta(std::move(resp));
  }
  st.sent = std::move(now);
  st.pendingNonce = nonce;
  st.pendingTrigger = push.triggeredAt;
  {
    std::lock_guard lock(statusMu_);
    st.status.sentNonce = nonce;
    st.status.snapshotSent = push.snapshot ? push.snapshot->version() : 0;
    st.status.resourcesSent = st.sent.size();
  }
  if (hooks_.onPushed)
    hooks_.onPushed(typeUrl, bytes, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void XdsConnection::onRequest(const DiscoveryRequest& req, const PushContext& push) {
  const std::string& type = req.type_url();
  TypeState& st = stateFor(type);
  bool first = !st.subscribed;
  if (!first && req.response_nonce() != st.pendingNonce) return;  // stale: a newer response is in flight
  if (req.has_error_detail()) {
    std::lock_guard lock(statusMu_);
    st.status.nackMessage = req.error_detail().message();
    if (hooks_.onNack) hooks_.onNack(proxy_, type, req.error_detail().message());
  } else if (!first) {
    std::lock_guard lock(statusMu_);
    st.status.ackedVersion = req.version_info();
    st.status.ackedNonce = req.response_nonce();
    st.status.snapshotAcked = st.status.snapshotSent;
    st.status.nackMessage.clear();
    if (hooks_.onConverged)
      hooks_.onConverged(std::chrono::duration<double>(std::chrono::steady_clock::now() - st.pendingTrigger).count());
  }
  std::set<std::string, std::less<>> names(req.resource_names().begin(), req.resource_names().end());
  bool wildcard = names.empty() ? wildcardByDefault(type) : names.contains("*");
  if (wildcard) names.erase("*");
  bool changed = first || names != st.names || wildcard != st.wildcard;
  st.subscribed = true;
  st.names = std::move(names);
  st.wildcard = wildcard;
  // A NACK is not answered with the same config again; a changed subscription always is.
  if (changed && !(req.has_error_detail() && !first)) respond(type, st, push, true);
}

void XdsConnection::onDeltaRequest(const DeltaDiscoveryRequest& req, const PushContext& push) {
  const std::string& type = req.type_url();
  TypeState& st = stateFor(type);
  bool first = !st.subscribed;
  if (first) {
    // Resources the proxy already holds from an earlier stream: only changes need sending.
    for (const auto& [name, version] : req.initial_resource_versions()) st.sent[name] = parseHashVersion(version);
  }
  if (!req.response_nonce().empty()) {
    if (req.response_nonce() != st.pendingNonce) {
      if (req.resource_names_subscribe().empty() && req.resource_names_unsubscribe().empty()) return;
    } else if (req.has_error_detail()) {
      std::lock_guard lock(statusMu_);
      st.status.nackMessage = req.error_detail().message();
      if (hooks_.onNack) hooks_.onNack(proxy_, type, req.error_detail().message());
    } else {
      std::lock_guard lock(statusMu_);
      st.status.ackedVersion = st.status.sentVersion;
      st.status.ackedNonce = req.response_nonce();
      st.status.snapshotAcked = st.status.snapshotSent;
      st.status.nackMessage.clear();
      if (hooks_.onConverged)
        hooks_.onConverged(std::chrono::duration<double>(std::chrono::steady_clock::now() - st.pendingTrigger).count());
    }
  }
  bool changed = first;
  if (first && req.resource_names_subscribe().empty() && wildcardByDefault(type)) st.wildcard = true;
  for (const std::string& n : req.resource_names_subscribe()) {
    if (n == "*") changed |= !std::exchange(st.wildcard, true);
    else changed |= st.names.insert(n).second;
  }
  for (const std::string& n : req.resource_names_unsubscribe()) {
    if (n == "*") changed |= std::exchange(st.wildcard, false);
    else if (st.names.erase(n)) {
      st.sent.erase(n);  // the proxy dropped it; resubscribing must send it again
      changed = true;
    }
  }
  st.subscribed = true;
  if (changed) respond(type, st, push, first || req.resource_names_subscribe_size() > 0);
}

void XdsConnection::push(const PushContext& push) {
  for (std::string_view type : kPushOrder) {
    auto it = types_.find(type);
    if (it == types_.end() || !it->second.subscribed || !push.affects(type)) continue;
    respond(it->first, it->second, push, false);
  }
  // Types outside Istio's order (none today) still get pushed.
  for (auto& [type, st] : types_)
    if (st.subscribed && push.affects(type) && std::ranges::find(kPushOrder, type) == std::end(kPushOrder))
      respond(type, st, push, false);
}

ProxyStatus XdsConnection::status() const {
  ProxyStatus s;
  s.id = proxy_.id;
  s.name = proxy_.displayName();
  s.clusterId = proxy_.clusterId;
  s.istioVersion = proxy_.istioVersion.empty() ? proxy_.userAgentVersion : proxy_.istioVersion;
  s.streamKind = delta_ ? "delta" : "sotw";
  s.connectedAt = connectedAt_;
  std::lock_guard lock(statusMu_);
  for (const auto& [type, st] : types_)
    if (st.subscribed) s.types[type] = st.status;
  return s;
}

}  // namespace mesh::server
