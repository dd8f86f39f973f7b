#include "proxy/xds/ads_state.h"

#include <algorithm>

#include <fmt/format.h>
#include <google/protobuf/util/message_differencer.h>

#include "core/log.h"
#include "proxy/xds/resource_validation.h"
#include "proxy/xds/sds_resources.h"

namespace mesh::proxy {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::transport_sockets::tls::v3::Secret;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

namespace {

constexpr int kInvalidArgument = 3;  // google.rpc.Code of a NACK's error_detail, as Envoy sends

const std::string& nameOf(const Cluster& c) { return c.name(); }
const std::string& nameOf(const ClusterLoadAssignment& c) { return c.cluster_name(); }
const std::string& nameOf(const Listener& l) { return l.name(); }
const std::string& nameOf(const RouteConfiguration& r) { return r.name(); }
const std::string& nameOf(const Secret& s) { return s.name(); }

Result<void> validate(const Cluster& c) { return validateCluster(c); }
Result<void> validate(const ClusterLoadAssignment& c) { return validateLoadAssignment(c); }
Result<void> validate(const Listener& l) { return validateListener(l); }
Result<void> validate(const RouteConfiguration& r) {
  if (r.name().empty()) return fail(ErrorCode::InvalidInput, "route configuration has no name");
  return validateRouteConfiguration(r);
}
Result<void> validate(const Secret& s) { return validateSecret(s); }

bool wildcardType(std::string_view typeUrl) { return typeUrl == type_url::kCluster || typeUrl == type_url::kListener; }

template <class M>
bool sameContent(const M& a, const M& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

std::string_view shortTypeName(std::string_view typeUrl) {
  if (typeUrl == type_url::kCluster) return "cds";
  if (typeUrl == type_url::kEndpoint) return "eds";
  if (typeUrl == type_url::kListener) return "lds";
  if (typeUrl == type_url::kRoute) return "rds";
  if (typeUrl == type_url::kSecret) return "sds";
  return typeUrl;
}

struct AdsState::Incoming {
  std::vector<XdsResource<Cluster>> clusters;
  std::vector<XdsResource<ClusterLoadAssignment>> endpoints;
  std::vector<XdsResource<Listener>> listeners;
  std::vector<XdsResource<RouteConfiguration>> routes;
  std::vector<XdsResource<Secret>> secrets;
  std::vector<std::string> removed;
  bool fullSet = false;  // state of the world CDS/LDS: what is absent is removed
  std::set<std::string> names;

  // Unpacks, names and checks one resource of the response's type.
  template <class M>
  Result<void> add(std::vector<XdsResource<M>>& into, const google::protobuf::Any& any, std::string_view typeUrl,
                   std::string version, std::string_view declaredName) {
    if (any.type_url() != typeUrl)
      return fail(ErrorCode::InvalidInput, fmt::format("a resource of type {:?} in a {} response", any.type_url(),
                                                       shortTypeName(typeUrl)));
    M message;
    if (!message.ParseFromString(any.value()))
      return fail(ErrorCode::InvalidInput, fmt::format("a {} resource does not parse", shortTypeName(typeUrl)));
    const std::string& name = nameOf(message);
    if (!declaredName.empty() && declaredName != name)
      return fail(ErrorCode::InvalidInput, fmt::format("resource {:?} carries a {:?}", declaredName, name));
    if (auto r = validate(message); !r) return r;
    if (!names.insert(name).second)
      return fail(ErrorCode::InvalidInput, fmt::format("duplicate {} resource {:?}", shortTypeName(typeUrl), name));
    into.push_back(XdsResource<M>{std::move(message), std::move(version), std::chrono::system_clock::now()});
    return {};
  }

  Result<void> add(const google::protobuf::Any& any, std::string_view typeUrl, std::string version,
                   std::string_view declaredName) {
    if (typeUrl == type_url::kCluster) return add(clusters, any, typeUrl, std::move(version), declaredName);
    if (typeUrl == type_url::kEndpoint) return add(endpoints, any, typeUrl, std::move(version), declaredName);
    if (typeUrl == type_url::kListener) return add(listeners, any, typeUrl, std::move(version), declaredName);
    if (typeUrl == type_url::kSecret) return add(secrets, any, typeUrl, std::move(version), declaredName);
    return add(routes, any, typeUrl, std::move(version), declaredName);
  }
};

struct AdsState::Candidate {
  std::shared_ptr<XdsSnapshot> active;
  std::shared_ptr<XdsSnapshot> warming;
  // Delta removals of resources something waits for: the waiter warms without them.
  std::set<std::string> goneEndpoints;
  std::set<std::string> goneRoutes;
};

AdsState::AdsState(envoy::config::core::v3::Node node, ConfigConsumer& consumer, Options options)
    : node_(std::move(node)), consumer_(consumer), options_(options),
      active_(std::make_shared<const XdsSnapshot>()), warming_(std::make_shared<const XdsSnapshot>()) {
  for (std::string_view t : kAdsTypes) {
    subs_[std::string(t)];
    stats_.types[std::string(t)];
  }
  publish();
}

std::set<std::string> AdsState::wantedEndpoints(const XdsSnapshot& active, const XdsSnapshot& warming) const {
  std::set<std::string> names;
  for (const auto* map : {&active.clusters, &warming.clusters})
    for (const auto& [name, c] : *map)
      if (std::string eds = edsServiceName(c.resource); !eds.empty()) names.insert(std::move(eds));
  return names;
}

std::set<std::string> AdsState::wantedRoutes(const XdsSnapshot& active, const XdsSnapshot& warming) const {
  std::set<std::string> names;
  for (const auto* map : {&active.listeners, &warming.listeners})
    for (const auto& [name, l] : *map)
      for (std::string& r : rdsRouteNames(l.resource)) names.insert(std::move(r));
  return names;
}

std::set<std::string> AdsState::wantedSecrets(const XdsSnapshot& active, const XdsSnapshot& warming) const {
  std::set<std::string> names;
  for (const XdsSnapshot* s : {&active, &warming}) {
    for (const auto& [name, c] : s->clusters)
      for (std::string& n : adsSecretNames(c.resource)) names.insert(std::move(n));
    for (const auto& [name, l] : s->listeners)
      for (std::string& n : adsSecretNames(l.resource)) names.insert(std::move(n));
  }
  return names;
}

std::map<std::string, std::string> AdsState::heldVersions(std::string_view typeUrl) const {
  std::map<std::string, std::string> out;
  auto collect = [&out](const auto& map) {
    for (const auto& [name, r] : map) out.emplace(name, r.version);
  };
  for (const XdsSnapshot* s : {active_.get(), warming_.get()}) {
    if (typeUrl == type_url::kCluster) collect(s->clusters);
    else if (typeUrl == type_url::kEndpoint) collect(s->endpoints);
    else if (typeUrl == type_url::kListener) collect(s->listeners);
    else if (typeUrl == type_url::kSecret) collect(s->secrets);
    else collect(s->routes);
  }
  return out;
}

// A subscription request: the first of its type on this stream (carrying what is held), or a
// change of names. State of the world always sends the full name list.
void AdsState::addRequest(AdsRequests& out, std::string_view typeUrl, const std::set<std::string>* added,
                          const std::set<std::string>* removed) {
  Subscription& sub = subs_.find(typeUrl)->second;
  bool first = !sub.requested;
  sub.requested = true;
  if (delta_) {
    DeltaDiscoveryRequest& r = out.delta.emplace_back();
    r.set_type_url(std::string(typeUrl));
    if (!nodeSent_) *r.mutable_node() = node_;
    nodeSent_ = true;
    if (first) {
      for (const std::string& n : sub.names) r.add_resource_names_subscribe(n);
      for (auto& [name, version] : heldVersions(typeUrl)) (*r.mutable_initial_resource_versions())[name] = version;
    } else {
      if (added)
        for (const std::string& n : *added) r.add_resource_names_subscribe(n);
      if (removed)
        for (const std::string& n : *removed) r.add_resource_names_unsubscribe(n);
    }
    return;
  }
  DiscoveryRequest& r = out.sotw.emplace_back();
  r.set_type_url(std::string(typeUrl));
  if (!nodeSent_) *r.mutable_node() = node_;
  nodeSent_ = true;
  r.set_version_info(stats_.types[std::string(typeUrl)].version);
  r.set_response_nonce(sub.nonce);
  for (const std::string& n : sub.names) r.add_resource_names(n);
}

void AdsState::addAck(AdsRequests& out, const std::string& typeUrl, const std::string& nonce, const std::string* error) {
  auto fillError = [error](auto& r) {
    if (!error) return;
    r.mutable_error_detail()->set_code(kInvalidArgument);
    r.mutable_error_detail()->set_message(*error);
  };
  if (delta_) {
    DeltaDiscoveryRequest& r = out.delta.emplace_back();
    r.set_type_url(typeUrl);
    r.set_response_nonce(nonce);
    fillError(r);
    return;
  }
  DiscoveryRequest& r = out.sotw.emplace_back();
  r.set_type_url(typeUrl);
  // A NACK names the version still in use; an ACK the one just accepted (set by the caller).
  if (auto ts = stats_.types.find(typeUrl); ts != stats_.types.end()) r.set_version_info(ts->second.version);
  r.set_response_nonce(nonce);
  if (auto it = subs_.find(typeUrl); it != subs_.end())
    for (const std::string& n : it->second.names) r.add_resource_names(n);
  fillError(r);
}

AdsRequests AdsState::startStream(bool delta) {
  delta_ = delta;
  nodeSent_ = false;
  for (auto& [type, sub] : subs_) {
    sub.requested = false;
    sub.nonce.clear();
  }
  stats_.streamKind = delta ? "delta" : "sotw";
  ++stats_.streamsStarted;
  publish();
  // Envoy's order; on a reconnect, everything held is subscribed again at once.
  AdsRequests out;
  addRequest(out, type_url::kCluster, nullptr, nullptr);
  if (!subs_[std::string(type_url::kEndpoint)].names.empty()) addRequest(out, type_url::kEndpoint, nullptr, nullptr);
  if (ldsRequested_) {
    addRequest(out, type_url::kListener, nullptr, nullptr);
    if (!subs_[std::string(type_url::kRoute)].names.empty()) addRequest(out, type_url::kRoute, nullptr, nullptr);
  }
  if (!subs_[std::string(type_url::kSecret)].names.empty()) addRequest(out, type_url::kSecret, nullptr, nullptr);
  return out;
}

void AdsState::streamEnded() {
  stats_.connected = false;
  ++stats_.streamsEnded;
  publish();
}

// A response that fails before it meets the held state: NACKed, nothing changes. A type that
// was never requested gets its NACK but no stats entry.
AdsRequests AdsState::reject(const std::string& typeUrl, const std::string& nonce, const std::string& message) {
  AdsRequests out;
  auto sub = subs_.find(typeUrl);
  if (sub != subs_.end()) {
    sub->second.nonce = nonce;
    XdsTypeStats& ts = stats_.types[typeUrl];
    ++ts.updateAttempt;
    ++ts.updateRejected;
    ts.lastNack = message;
  }
  stats_.lastNack = fmt::format("{}: {}", typeUrl, message);
  stats_.connected = true;
  log::warn("xds", "{} response {} rejected: {}", shortTypeName(typeUrl), nonce, message);
  addAck(out, typeUrl, nonce, &message);
  publish();
  return out;
}

AdsRequests AdsState::onResponse(const DiscoveryResponse& response) {
  const std::string& typeUrl = response.type_url();
  Incoming incoming;
  incoming.fullSet = wildcardType(typeUrl);
  Result<void> parsed;
  if (!subs_.contains(typeUrl)) {
    parsed = fail(ErrorCode::InvalidInput, fmt::format("type {:?} was not requested", typeUrl));
  } else {
    for (const auto& any : response.resources()) {
      parsed = incoming.add(any, typeUrl, response.version_info(), {});
      if (!parsed) break;
    }
  }
  if (!parsed) return reject(typeUrl, response.nonce(), parsed.error().message);
  return handle(typeUrl, response.nonce(), response.version_info(), std::move(incoming));
}

AdsRequests AdsState::onDeltaResponse(const DeltaDiscoveryResponse& response) {
  const std::string& typeUrl = response.type_url();
  Incoming incoming;
  Result<void> parsed;
  if (!subs_.contains(typeUrl)) {
    parsed = fail(ErrorCode::InvalidInput, fmt::format("type {:?} was not requested", typeUrl));
  } else {
    for (const auto& r : response.resources()) {
      if (!r.has_resource()) {
        parsed = fail(ErrorCode::InvalidInput, fmt::format("resource {:?} has no body", r.name()));
        break;
      }
      parsed = incoming.add(r.resource(), typeUrl, r.version(), r.name());
      if (!parsed) break;
    }
    for (const std::string& name : response.removed_resources()) incoming.removed.push_back(name);
  }
  if (!parsed) return reject(typeUrl, response.nonce(), parsed.error().message);
  return handle(typeUrl, response.nonce(), response.system_version_info(), std::move(incoming));
}

namespace {

// Puts each incoming resource where it belongs: unchanged ones stay as they are; changed ones
// go active when `warm` says they can, else to `warming` (replacing a warming older version).
template <class M, class WarmFn>
void upsert(XdsResourceMap<M>& active, XdsResourceMap<M>* warming, std::vector<XdsResource<M>>& incoming, WarmFn warm) {
  for (XdsResource<M>& r : incoming) {
    std::string name = nameOf(r.resource);
    auto held = active.find(name);
    if (held != active.end() && sameContent(held->second.resource, r.resource)) {
      if (warming) warming->erase(name);
      continue;
    }
    if (!warming || warm(r.resource)) {
      if (warming) warming->erase(name);
      active.insert_or_assign(std::move(name), std::move(r));
    } else {
      warming->insert_or_assign(std::move(name), std::move(r));
    }
  }
}

template <class M>
void removeAbsent(XdsResourceMap<M>& map, const std::set<std::string>& names) {
  std::erase_if(map, [&names](const auto& entry) { return !names.contains(entry.first); });
}

}  // namespace

// Applies one accepted response to the candidate; incoming resources are moved out of `in`.
void AdsState::merge(const std::string& typeUrl, Incoming& in, Candidate& c) const {
  XdsSnapshot& active = *c.active;
  XdsSnapshot& warming = *c.warming;
  Incoming& incoming = in;
  if (typeUrl == type_url::kCluster) {
    if (in.fullSet) {
      removeAbsent(active.clusters, in.names);
      removeAbsent(warming.clusters, in.names);
    }
    for (const std::string& n : in.removed) {
      active.clusters.erase(n);
      warming.clusters.erase(n);
    }
    upsert(active.clusters, &warming.clusters, incoming.clusters, [&active](const Cluster& cluster) {
      std::string eds = edsServiceName(cluster);
      return eds.empty() || active.endpoints.contains(eds);
    });
    // Envoy drops the load assignments no cluster asks for any more.
    removeAbsent(active.endpoints, wantedEndpoints(active, warming));
    removeAbsent(active.secrets, wantedSecrets(active, warming));
  } else if (typeUrl == type_url::kEndpoint) {
    const std::set<std::string>& wanted = subs_.find(typeUrl)->second.names;
    for (const std::string& n : in.removed)
      if (active.endpoints.erase(n) || wanted.contains(n)) c.goneEndpoints.insert(n);
    // Envoy ignores load assignments it did not ask for.
    std::erase_if(incoming.endpoints, [&wanted](const auto& r) { return !wanted.contains(r.resource.cluster_name()); });
    upsert<ClusterLoadAssignment>(active.endpoints, nullptr, incoming.endpoints, [](const auto&) { return true; });
  } else if (typeUrl == type_url::kListener) {
    if (in.fullSet) {
      removeAbsent(active.listeners, in.names);
      removeAbsent(warming.listeners, in.names);
    }
    for (const std::string& n : in.removed) {
      active.listeners.erase(n);
      warming.listeners.erase(n);
    }
    upsert(active.listeners, &warming.listeners, incoming.listeners, [&active](const Listener& listener) {
      auto names = rdsRouteNames(listener);
      return std::ranges::all_of(names, [&active](const std::string& n) { return active.routes.contains(n); });
    });
    removeAbsent(active.routes, wantedRoutes(active, warming));
    removeAbsent(active.secrets, wantedSecrets(active, warming));
  } else if (typeUrl == type_url::kSecret) {
    const std::set<std::string>& wanted = subs_.find(typeUrl)->second.names;
    for (const std::string& n : in.removed) active.secrets.erase(n);
    // Secrets nothing references (any more) are dropped, as Envoy's SDS subscriptions end.
    std::erase_if(incoming.secrets, [&wanted](const auto& r) { return !wanted.contains(r.resource.name()); });
    upsert<Secret>(active.secrets, nullptr, incoming.secrets, [](const auto&) { return true; });
  } else {
    const std::set<std::string>& wanted = subs_.find(typeUrl)->second.names;
    for (const std::string& n : in.removed)
      if (active.routes.erase(n) || wanted.contains(n)) c.goneRoutes.insert(n);
    std::erase_if(incoming.routes, [&wanted](const auto& r) { return !wanted.contains(r.resource.name()); });
    upsert<RouteConfiguration>(active.routes, nullptr, incoming.routes, [](const auto&) { return true; });
  }
}

// Moves clusters whose load assignment arrived (or was removed: they warm empty, as Envoy's do)
// and listeners whose route configurations arrived into the active snapshot; `all` after the
// initial fetch timeout.
void AdsState::promoteWarm(Candidate& c, bool all) const {
  XdsSnapshot& active = *c.active;
  XdsSnapshot& warming = *c.warming;
  for (auto it = warming.clusters.begin(); it != warming.clusters.end();) {
    std::string eds = edsServiceName(it->second.resource);
    if (all || eds.empty() || active.endpoints.contains(eds) || c.goneEndpoints.contains(eds)) {
      active.clusters.insert_or_assign(it->first, std::move(it->second));
      it = warming.clusters.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = warming.listeners.begin(); it != warming.listeners.end();) {
    auto names = rdsRouteNames(it->second.resource);
    bool ready = std::ranges::all_of(
        names, [&](const std::string& n) { return active.routes.contains(n) || c.goneRoutes.contains(n); });
    if (all || ready) {
      active.listeners.insert_or_assign(it->first, std::move(it->second));
      it = warming.listeners.erase(it);
    } else {
      ++it;
    }
  }
}

AdsRequests AdsState::handle(const std::string& typeUrl, const std::string& nonce, const std::string& version,
                             Incoming incoming) {
  subs_[typeUrl].nonce = nonce;
  XdsTypeStats& ts = stats_.types[typeUrl];
  ++ts.updateAttempt;
  stats_.connected = true;

  Candidate c{std::make_shared<XdsSnapshot>(*active_), std::make_shared<XdsSnapshot>(*warming_), {}, {}};
  merge(typeUrl, incoming, c);
  promoteWarm(c, false);
  c.active->typeVersions.insert_or_assign(typeUrl, version);
  if (Result<void> applied = consumer_.apply(c.active); !applied) {
    --ts.updateAttempt;  // reject() counts the attempt
    return reject(typeUrl, nonce, applied.error().message);
  }
  AdsRequests out;
  active_ = std::move(c.active);
  warming_ = std::move(c.warming);
  ++ts.updateSuccess;
  ts.version = version;
  ts.lastUpdated = std::chrono::system_clock::now();
  auto now = std::chrono::steady_clock::now();
  if (typeUrl == type_url::kCluster && !std::exchange(cdsAccepted_, true)) cdsAcceptedAt_ = now;
  if (typeUrl == type_url::kListener && !std::exchange(ldsAccepted_, true)) ldsAcceptedAt_ = now;
  log::debug("xds", "{} version {} accepted: {} clusters ({} warming), {} endpoints, {} listeners ({} warming), {} routes",
             shortTypeName(typeUrl), version, active_->clusters.size(), warming_->clusters.size(),
             active_->endpoints.size(), active_->listeners.size(), warming_->listeners.size(), active_->routes.size());
  // Envoy sends the subscriptions a response caused before its ACK.
  followUps(out);
  addAck(out, typeUrl, nonce, nullptr);
  publish();
  return out;
}

void AdsState::followUps(AdsRequests& out) {
  auto resubscribe = [&](std::string_view typeUrl, std::set<std::string> wanted) {
    Subscription& sub = subs_.find(typeUrl)->second;
    if (wanted == sub.names && (sub.requested || wanted.empty())) return;
    std::set<std::string> added, removed;
    std::ranges::set_difference(wanted, sub.names, std::inserter(added, added.end()));
    std::ranges::set_difference(sub.names, wanted, std::inserter(removed, removed.end()));
    sub.names = std::move(wanted);
    addRequest(out, typeUrl, &added, &removed);
  };
  resubscribe(type_url::kEndpoint, wantedEndpoints(*active_, *warming_));
  if (!ldsRequested_ && cdsAccepted_ && warming_->clusters.empty()) {
    ldsRequested_ = true;
    addRequest(out, type_url::kListener, nullptr, nullptr);
  }
  resubscribe(type_url::kRoute, wantedRoutes(*active_, *warming_));
  resubscribe(type_url::kSecret, wantedSecrets(*active_, *warming_));
  if (!initialized_ && ldsAccepted_ && warming_->listeners.empty()) {
    initialized_ = true;
    log::info("xds", "initial config applied: {} clusters, {} listeners", active_->clusters.size(),
              active_->listeners.size());
  }
}

AdsRequests AdsState::onTick(std::chrono::steady_clock::time_point now) {
  AdsRequests out;
  bool clustersLate = cdsAccepted_ && !ldsRequested_ && now - cdsAcceptedAt_ >= options_.initialFetchTimeout;
  bool listenersLate = ldsAccepted_ && !initialized_ && now - ldsAcceptedAt_ >= options_.initialFetchTimeout;
  if (!clustersLate && !listenersLate) return out;
  Candidate c{std::make_shared<XdsSnapshot>(*active_), std::make_shared<XdsSnapshot>(*warming_), {}, {}};
  log::warn("xds", "initial fetch timeout: using {} clusters and {} listeners without their EDS/RDS",
            c.warming->clusters.size(), c.warming->listeners.size());
  promoteWarm(c, true);
  if (auto r = consumer_.apply(c.active); r) {
    active_ = std::move(c.active);
    warming_ = std::move(c.warming);
  } else {
    log::warn("xds", "warming config rejected after the initial fetch timeout: {}", r.error().message);
  }
  if (clustersLate && !ldsRequested_) {
    ldsRequested_ = true;
    addRequest(out, type_url::kListener, nullptr, nullptr);
  }
  if (listenersLate) initialized_ = true;
  publish();
  return out;
}

void AdsState::publish() {
  stats_.warmingClusters = warming_->clusters.size();
  stats_.warmingListeners = warming_->listeners.size();
  stats_.initialized = initialized_;
  std::lock_guard lock(mu_);
  publishedView_ = XdsView{active_, warming_};
  publishedStats_ = stats_;
}

XdsView AdsState::view() const {
  std::lock_guard lock(mu_);
  return publishedView_;
}

XdsStats AdsState::stats() const {
  std::lock_guard lock(mu_);
  return publishedStats_;
}

bool AdsState::initialized() const {
  std::lock_guard lock(mu_);
  return publishedStats_.initialized;
}

}  // namespace mesh::proxy
