#include "controlplane/server/xds_connection.h"

#include <charconv>

#include <fmt/format.h>

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
                             NameTable& names, ConnectionHooks hooks)
    : id_(id), proxy_(std::move(proxy)), delta_(delta), generators_(generators), nameTable_(names),
      hooks_(std::move(hooks)) {}

const XdsConnection::SentEntry* XdsConnection::TypeState::holds(uint32_t id) const {
  auto it = std::ranges::lower_bound(sent, id, {}, &SentEntry::name);
  return it != sent.end() && it->name == id ? &*it : nullptr;
}

XdsConnection::TypeState& XdsConnection::stateFor(const std::string& typeUrl) {
  std::lock_guard lock(statusMu_);  // status() iterates types_
  return types_[typeUrl];
}

void XdsConnection::setNames(TypeState& st, std::vector<uint32_t> ids) {
  std::ranges::sort(ids);
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  uint64_t digest = 1469598103934665603ULL;  // FNV-1a over the ids
  for (uint32_t id : ids) digest = (digest ^ id) * 1099511628211ULL;
  st.names = std::move(ids);
  st.namesDigest = st.names.empty() ? 0 : digest;
}

std::string XdsConnection::nextNonce() { return fmt::format("{:x}-{}", id_, ++nonceCounter_); }

std::optional<xds::GeneratedResources> XdsConnection::generate(const std::string& typeUrl, const TypeState& st,
                                                              const PushContext& push) {
  const xds::Generator* gen = generators_.find(proxy_.generator, typeUrl);
  if (!gen || !push.snapshot) return xds::GeneratedResources{std::make_shared<const xds::XdsResources>(), false};
  try {
    std::shared_ptr<const model::SidecarScope> scope = push.memo->scope(*push.snapshot, proxy_);
    xds::ProxyView view{*push.snapshot, proxy_, *scope, push.cache.get()};
    xds::ResourceNames names;
    names.wildcard = st.wildcard;
    if (!st.wildcard) {
      names.shared = push.memo->names(st.namesDigest, st.names, nameTable_);
      names.digest = st.namesDigest;
    }
    return gen->generateShared(view, names);
  } catch (const std::exception& e) {
    // Exceptions stop here (STYLE.md): the stream and every other proxy keep going.
    if (hooks_.onInternalError) hooks_.onInternalError(proxy_, typeUrl, e.what());
    return std::nullopt;
  }
}

void XdsConnection::respond(const std::string& typeUrl, TypeState& st, const PushContext& push, bool force) {
  auto started = std::chrono::steady_clock::now();
  const uint64_t generation = push.snapshot ? push.snapshot->version() : 0;
  std::optional<xds::GeneratedResources> generated = generate(typeUrl, st, push);
  if (!generated) return;
  const xds::XdsResources& resources = *generated->resources;
  std::shared_ptr<const ResourceIds> ids = push.memo->ids(*generated, nameTable_);
  // What the proxy should hold now, and what changed against what it holds: one walk over
  // three lists sorted by id (generated, subscribed, held), linear in their sizes.
  std::vector<SentEntry> now;
  std::vector<uint32_t> changed;  // indexes into `resources`
  now.reserve(ids->size());
  auto subscribed = st.names.begin();
  auto held = st.sent.begin();
  for (const auto& [id, index] : *ids) {
    if (!st.wildcard) {  // generators may return more than asked
      while (subscribed != st.names.end() && *subscribed < id) ++subscribed;
      if (subscribed == st.names.end() || *subscribed != id) continue;
    }
    uint64_t hash = resources[index].hash;
    now.push_back(SentEntry{id, hash});
    while (held != st.sent.end() && held->name < id) ++held;
    if (held == st.sent.end() || held->name != id || held->hash != hash) changed.push_back(index);
  }
  std::vector<uint32_t> removed;
  auto current = now.begin();
  for (const SentEntry& e : st.sent) {
    while (current != now.end() && current->name < e.name) ++current;
    bool kept = current != now.end() && current->name == e.name;
    if (!kept && (st.wildcard || st.subscribedTo(e.name))) removed.push_back(e.name);
  }
  // LDS and CDS responses carry the full set; EDS and RDS only what changed (the protocol lets
  // a server leave out unchanged resources of those types), unless the subscription changed.
  bool fullSet = wildcardByDefault(typeUrl) || force;
  std::string nonce;
  size_t bytes = 0;
  auto addAny = [&](google::protobuf::Any* any, const xds::XdsResource& r) {
    any->set_type_url(typeUrl);
    any->set_value(*r.body);
    bytes += r.body->size();
  };
  if (!delta_) {
    if (!force && changed.empty() && removed.empty()) return markCurrent(st, generation);
    auto resp = std::make_shared<DiscoveryResponse>();
    resp->set_type_url(typeUrl);
    resp->set_version_info(std::to_string(generation));
    nonce = nextNonce();
    resp->set_nonce(nonce);
    std::vector<uint32_t> sending;
    if (fullSet) {
      sending.reserve(now.size());
      for (const auto& [id, index] : *ids)
        if (st.wildcard || st.subscribedTo(id)) sending.push_back(index);
    } else {
      sending = std::move(changed);
    }
    std::ranges::sort(sending);  // in the generator's order: by name
    for (uint32_t index : sending) addAny(resp->add_resources(), resources[index]);
    {
      std::lock_guard lock(statusMu_);
      st.status.sentVersion = resp->version_info();
    }
    hooks_.send(std::move(resp));
  } else {
    auto resp = std::make_shared<DeltaDiscoveryResponse>();
    std::ranges::sort(changed);
    for (uint32_t index : changed) {
      const xds::XdsResource& r = resources[index];
      auto* res = resp->add_resources();
      res->set_name(r.name);
      res->set_version(hashVersion(r.hash));
      addAny(res->mutable_resource(), r);
    }
    for (uint32_t id : removed) resp->add_removed_resources(nameTable_.name(id));
    // Named subscriptions to resources that do not exist: say so, so the proxy stops waiting.
    if (force && !st.wildcard)
      for (uint32_t id : st.names)
        if (!std::ranges::binary_search(now, id, {}, &SentEntry::name) && !st.holds(id))
          resp->add_removed_resources(nameTable_.name(id));
    if (!force && resp->resources_size() == 0 && resp->removed_resources_size() == 0) return markCurrent(st, generation);
    resp->set_type_url(typeUrl);
    resp->set_system_version_info(std::to_string(generation));
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
    st.status.snapshotSent = generation;
    st.status.resourcesSent = st.sent.size();
  }
  if (hooks_.onPushed)
    hooks_.onPushed(typeUrl, bytes, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void XdsConnection::recordAck(TypeState& st, const std::string& version, const std::string& nonce) {
  std::lock_guard lock(statusMu_);
  st.status.ackedVersion = version;
  st.status.ackedNonce = nonce;
  st.status.snapshotAcked = st.status.snapshotSent;
  st.status.nackMessage.clear();
  if (hooks_.onConverged)
    hooks_.onConverged(std::chrono::duration<double>(std::chrono::steady_clock::now() - st.pendingTrigger).count());
}

void XdsConnection::markCurrent(TypeState& st, uint64_t generation) {
  std::lock_guard lock(statusMu_);
  if (generation <= st.status.snapshotSent) return;
  st.status.snapshotSent = generation;
  bool inFlight = !st.pendingNonce.empty() && st.status.ackedNonce != st.pendingNonce;
  if (!inFlight && st.status.nackMessage.empty()) st.status.snapshotAcked = generation;
}

void XdsConnection::recordNack(TypeState& st, const std::string& type, const std::string& message) {
  {
    std::lock_guard lock(statusMu_);
    st.status.nackMessage = message;
  }
  if (hooks_.onNack) hooks_.onNack(proxy_, type, message);
}

void XdsConnection::onRequest(const DiscoveryRequest& req, const PushContext& push) {
  const std::string& type = req.type_url();
  TypeState& st = stateFor(type);
  bool first = !st.subscribed;
  if (!first && req.response_nonce() != st.pendingNonce) return;  // stale: a newer response is in flight
  if (req.has_error_detail()) recordNack(st, type, req.error_detail().message());
  else if (!first) recordAck(st, req.version_info(), req.response_nonce());
  bool wildcard = req.resource_names().empty() && wildcardByDefault(type);
  std::vector<uint32_t> ids;
  ids.reserve(static_cast<size_t>(req.resource_names_size()));
  for (const std::string& n : req.resource_names()) {
    if (n == "*") wildcard = true;
    else ids.push_back(nameTable_.id(n));
  }
  std::ranges::sort(ids);
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  bool changed = first || ids != st.names || wildcard != st.wildcard;
  if (changed) {
    std::lock_guard lock(statusMu_);  // subscriptions() reads these
    st.subscribed = true;
    setNames(st, std::move(ids));
    st.wildcard = wildcard;
  }
  // A NACK is not answered with the same config again; a changed subscription always is.
  if (changed && !(req.has_error_detail() && !first)) respond(type, st, push, true);
}

void XdsConnection::onDeltaRequest(const DeltaDiscoveryRequest& req, const PushContext& push) {
  const std::string& type = req.type_url();
  TypeState& st = stateFor(type);
  bool first = !st.subscribed;
  if (first) {
    // Resources the proxy already holds from an earlier stream: only changes need sending.
    for (const auto& [name, version] : req.initial_resource_versions())
      st.sent.push_back(SentEntry{nameTable_.id(name), parseHashVersion(version)});
    std::ranges::sort(st.sent, {}, &SentEntry::name);
  }
  if (!req.response_nonce().empty()) {
    if (req.response_nonce() != st.pendingNonce) {
      if (req.resource_names_subscribe().empty() && req.resource_names_unsubscribe().empty()) return;
    } else if (req.has_error_detail()) {
      recordNack(st, type, req.error_detail().message());
    } else {
      recordAck(st, st.status.sentVersion, req.response_nonce());
    }
  }
  bool changed = first;
  {
    std::lock_guard lock(statusMu_);  // subscriptions() reads these
    if (first && req.resource_names_subscribe().empty() && wildcardByDefault(type)) st.wildcard = true;
    std::vector<uint32_t> ids = st.names;
    for (const std::string& n : req.resource_names_subscribe()) {
      if (n == "*") changed |= !std::exchange(st.wildcard, true);
      else ids.push_back(nameTable_.id(n));
    }
    for (const std::string& n : req.resource_names_unsubscribe()) {
      if (n == "*") {
        changed |= std::exchange(st.wildcard, false);
        continue;
      }
      uint32_t id = nameTable_.id(n);
      std::erase(ids, id);
      // The proxy dropped it; resubscribing must send it again.
      std::erase_if(st.sent, [id](const SentEntry& e) { return e.name == id; });
    }
    size_t before = st.names.size();
    std::vector<uint32_t> old = st.names;
    setNames(st, std::move(ids));
    changed |= st.names != old || st.names.size() != before;
    st.subscribed = true;
  }
  if (changed) respond(type, st, push, first || req.resource_names_subscribe_size() > 0);
}

void XdsConnection::push(const PushContext& push) {
  uint64_t generation = push.snapshot ? push.snapshot->version() : 0;
  for (std::string_view type : kPushOrder) {
    auto it = types_.find(type);
    if (it == types_.end() || !it->second.subscribed) continue;
    if (push.affects(type)) respond(it->first, it->second, push, false);
    else markCurrent(it->second, generation);
  }
  // Types outside Istio's order (none today) still get pushed.
  for (auto& [type, st] : types_)
    if (st.subscribed && std::ranges::find(kPushOrder, type) == std::end(kPushOrder)) {
      if (push.affects(type)) respond(type, st, push, false);
      else markCurrent(st, generation);
    }
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

std::map<std::string, TypeSubscription> XdsConnection::subscriptions() const {
  std::map<std::string, TypeSubscription> out;
  std::lock_guard lock(statusMu_);
  for (const auto& [type, st] : types_)
    if (st.subscribed) {
      TypeSubscription sub{st.wildcard, {}};
      for (uint32_t id : st.names) sub.names.push_back(nameTable_.name(id));
      std::ranges::sort(sub.names);
      out[type] = std::move(sub);
    }
  return out;
}

}  // namespace mesh::server
