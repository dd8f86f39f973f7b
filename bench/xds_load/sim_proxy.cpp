#include "bench/xds_load/sim_proxy.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace mesh::bench {
namespace {

uint64_t versionNumber(std::string_view v) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() && p == v.data() + v.size() ? n : 0;
}

bool nonEmpty(const DependenciesPtr& d) { return d && d->names && !d->names->names.empty(); }

}  // namespace

SimProxy::SimProxy(std::string node, bool delta, NameSets& sets) : node_(std::move(node)), delta_(delta), sets_(sets) {}

std::string SimProxy::request(XdsType t, bool ack, const NameSetPtr& previousNames) {
  const TypeState& st = state(t);
  std::string out;
  if (!delta_) {
    // DiscoveryRequest: version_info = 1, node = 2, resource_names = 3, type_url = 4,
    // response_nonce = 5. Envoy repeats its last accepted version and nonce on every
    // request and always lists its whole subscription.
    out.reserve(128 + node_.size() + (st.names ? st.names->encoded.size() : 0));
    if (!st.version.empty()) putBytesField(out, 1, st.version);
    if (!nodeSent_) putBytesField(out, 2, node_);
    if (st.names) out += st.names->encoded;
    putBytesField(out, 4, typeUrl(t));
    if (!st.nonce.empty()) putBytesField(out, 5, st.nonce);
  } else {
    // DeltaDiscoveryRequest: node = 1, type_url = 2, resource_names_subscribe = 3,
    // resource_names_unsubscribe = 4, response_nonce = 6. An ACK carries only the nonce;
    // a subscription change carries only what was added and removed.
    if (!nodeSent_) putBytesField(out, 1, node_);
    putBytesField(out, 2, typeUrl(t));
    if (ack) {
      putBytesField(out, 6, st.nonce);
    } else if (st.names && !previousNames) {
      out += st.names->encoded;
    } else if (st.names && previousNames) {
      const auto& now = st.names->names;
      const auto& before = previousNames->names;
      std::vector<std::string_view> added, removed;
      std::ranges::set_difference(now, before, std::back_inserter(added));
      std::ranges::set_difference(before, now, std::back_inserter(removed));
      for (std::string_view n : added) putBytesField(out, 3, n);
      for (std::string_view n : removed) putBytesField(out, 4, n);
    }
  }
  nodeSent_ = true;
  return out;
}

void SimProxy::subscribe(XdsType t, NameSetPtr names, Step& step) {
  TypeState& st = state(t);
  if (!st.subscribed) step.subscribed.push_back(t);
  NameSetPtr previous = st.subscribed ? st.names : nullptr;
  st.subscribed = true;
  st.answered = false;
  st.names = std::move(names);
  step.requests.push_back(request(t, false, previous));
}

SimProxy::Step SimProxy::start() {
  Step step;
  subscribe(XdsType::Cluster, nullptr, step);
  return step;
}

DependenciesPtr SimProxy::applyUpdate(const TypeState& st, const Response& r) {
  if (!delta_) {
    std::vector<std::string> names;
    for (const auto& [cluster, eds] : r.clusters)
      if (!eds.empty()) names.push_back(eds);
    for (const auto& [listener, routes] : r.listeners) names.insert(names.end(), routes.begin(), routes.end());
    auto d = std::make_shared<Dependencies>();
    d->names = sets_.intern(std::move(names));
    return d;
  }
  DependenciesPtr from = st.deps ? st.deps : sets_.empty();
  if (DependenciesPtr known = sets_.transition(from, r.fingerprint)) return known;
  auto d = std::make_shared<Dependencies>();
  d->byResource = from->byResource;
  for (const std::string& name : r.removed) d->byResource.erase(name);
  for (const auto& [cluster, eds] : r.clusters)
    d->byResource[cluster] = eds.empty() ? std::vector<std::string>{} : std::vector<std::string>{eds};
  for (const auto& [listener, routes] : r.listeners) d->byResource[listener] = routes;
  std::vector<std::string> names;
  for (const auto& [resource, deps] : d->byResource) names.insert(names.end(), deps.begin(), deps.end());
  d->names = sets_.intern(std::move(names));
  DependenciesPtr done = std::move(d);
  sets_.remember(from, r.fingerprint, done);
  return done;
}

SimProxy::Accepted SimProxy::onResponse(const Response& r) {
  Accepted a;
  a.type = typeOf(r.typeUrl);
  TypeState& st = state(a.type);
  a.lastVersion = st.versionNumber;
  st.version = r.version;
  st.nonce = r.nonce;
  st.versionNumber = versionNumber(r.version);
  st.answered = true;
  a.version = st.versionNumber;
  if (a.type == XdsType::Cluster || a.type == XdsType::Listener) st.deps = applyUpdate(st, r);
  // Envoy ACKs the update, then asks for what it named (its ADS mux resumes the paused
  // EDS/RDS subscriptions after the CDS/LDS update is applied).
  a.requests.push_back(request(a.type, true, st.names));
  auto follow = [&](XdsType dependent) {
    TypeState& dep = state(dependent);
    if (dep.subscribed ? st.deps->names != dep.names : !st.deps->names->names.empty())
      subscribe(dependent, st.deps->names, a);
  };
  if (a.type == XdsType::Cluster) {
    follow(XdsType::Endpoint);
    // Listeners come once clusters are warm: right away when no cluster needs EDS.
    if (!state(XdsType::Listener).subscribed && !nonEmpty(st.deps)) subscribe(XdsType::Listener, nullptr, a);
  } else if (a.type == XdsType::Endpoint) {
    if (!state(XdsType::Listener).subscribed) subscribe(XdsType::Listener, nullptr, a);
  } else if (a.type == XdsType::Listener) {
    follow(XdsType::Route);
  }
  return a;
}

bool SimProxy::ready() const {
  auto answered = [&](XdsType t) { return state(t).subscribed && state(t).answered; };
  if (!answered(XdsType::Cluster) || !answered(XdsType::Listener)) return false;
  if (nonEmpty(state(XdsType::Cluster).deps) && !answered(XdsType::Endpoint)) return false;
  if (nonEmpty(state(XdsType::Listener).deps) && !answered(XdsType::Route)) return false;
  return true;
}

}  // namespace mesh::bench
