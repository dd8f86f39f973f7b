#include "controlplane/jwks/jwks_resolver.h"

#include <algorithm>

#include "controlplane/model/node_values.h"
#include "core/log.h"
#include "core/validation/duration.h"

namespace mesh::jwks {

JwksSources jwksSources(const model::ConfigSnapshot& snapshot) {
  JwksSources out;
  for (const core::Resource* policy : snapshot.ofKind("security.istio.io", "RequestAuthentication")) {
    for (const core::Node* rule : model::items(policy->spec()->get("jwtRules"))) {
      if (!rule->isMapping() || !model::text(rule, "jwks").empty()) continue;  // inline keys win, as in Istio
      std::string_view uri = model::text(rule, "jwksUri");
      std::string_view issuer = model::text(rule, "issuer");
      if (uri.empty() && issuer.empty()) continue;
      auto nanos = core::validation::parseDuration(model::text(rule, "timeout")).value_or(0);
      auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(nanos));
      auto& longest = out[uri.empty() ? JwksSource{"", std::string(issuer)} : JwksSource{std::string(uri), ""}];
      longest = std::max(longest, timeout);
    }
  }
  return out;
}

JwksResolver::JwksResolver(std::unique_ptr<JwksFetcher> fetcher, JwksResolverOptions options)
    : fetcher_(std::move(fetcher)), options_(options), keys_(std::make_shared<const model::JwtKeys>()) {}

JwksResolver::~JwksResolver() { stop(); }

bool JwksResolver::track(const JwksSources& sources) {
  std::unique_lock lock(mu_);
  bool changed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (auto source = sources.find(it->first); source != sources.end()) {
      it->second.timeout = source->second;
      ++it;
    } else {
      changed = changed || it->second.keys.has_value();
      it = entries_.erase(it);
    }
  }
  std::vector<JwksSource> added;
  std::chrono::milliseconds budget{0};
  for (const auto& [source, timeout] : sources) {
    if (!entries_.try_emplace(source, Entry{std::nullopt, {}, {}, timeout}).second) continue;
    added.push_back(source);
    budget += effectiveTimeout(timeout) * (source.jwksUri.empty() ? 2 : 1);  // discovery: two fetches
  }
  if (changed) publishLocked();  // nobody uses the dropped keys: no push needed
  if (added.empty()) return false;
  cv_.notify_all();
  if (!started_) return false;
  auto before = keys_;
  auto deadline = std::chrono::steady_clock::now() + std::min(budget, options_.maxFetchTimeout);
  cv_.wait_until(lock, deadline, [&] {
    return stopping_ || std::ranges::all_of(added, [&](const JwksSource& s) {
             auto it = entries_.find(s);
             return it == entries_.end() || it->second.attempted;
           });
  });
  return keys_ != before;
}

std::chrono::milliseconds JwksResolver::effectiveTimeout(std::chrono::milliseconds ruleTimeout) const {
  return ruleTimeout.count() > 0 ? std::min(ruleTimeout, options_.maxFetchTimeout) : options_.fetchTimeout;
}

std::shared_ptr<const model::JwtKeys> JwksResolver::keys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

void JwksResolver::start(std::function<void()> changed) {
  changed_ = std::move(changed);
  std::lock_guard lock(mu_);
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void JwksResolver::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JwksResolver::publishLocked() {
  auto keys = std::make_shared<model::JwtKeys>();
  for (const auto& [source, entry] : entries_) {
    if (!entry.keys) continue;
    if (source.jwksUri.empty()) keys->byIssuer.emplace(source.issuer, *entry.keys);
    else keys->byJwksUri.emplace(source.jwksUri, *entry.keys);
  }
  keys_ = std::move(keys);
}

Result<std::string> JwksResolver::fetch(const JwksSource& source, std::chrono::milliseconds timeout) {
  timeout = effectiveTimeout(timeout);
  std::string uri = source.jwksUri;
  if (uri.empty()) {
    // Istio resolves an issuer without jwksUri through OpenID discovery.
    std::string discovery = discoveryUrl(source.issuer);
    auto document = fetcher_->get(discovery, timeout, stopping_);
    if (!document) return Failure(document.error());
    auto found = discoveredJwksUri(*document);
    if (!found) return fail(found.error().code, discovery + ": " + found.error().message);
    uri = std::move(*found);
  }
  auto body = fetcher_->get(uri, timeout, stopping_);
  if (!body) return body;
  if (auto valid = checkJwks(*body); !valid) return fail(valid.error().code, uri + ": " + valid.error().message);
  return body;
}

void JwksResolver::run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto next = std::ranges::min_element(entries_, {}, [](const auto& e) { return e.second.due; });
    if (next == entries_.end()) {
      cv_.wait(lock);
      continue;
    }
    if (Clock::now() < next->second.due) {
      // A copy: while this waits, another thread may forget the entry (untracked source).
      Clock::time_point due = next->second.due;
      cv_.wait_until(lock, due);  // track() wakes it for a new source
      continue;
    }
    JwksSource source = next->first;
    auto timeout = next->second.timeout;
    lock.unlock();
    auto fetched = fetch(source, timeout);
    lock.lock();
    if (stopping_) break;
    auto entry = entries_.find(source);
    if (entry == entries_.end()) continue;  // no longer tracked
    Entry& e = entry->second;
    e.attempted = true;
    cv_.notify_all();  // track() may wait for this first attempt
    std::string_view what = source.jwksUri.empty() ? source.issuer : source.jwksUri;
    bool changed = false;
    if (fetched) {
      changed = e.keys != *fetched;
      if (changed) log::info("jwks", "{} keys for {}", e.keys ? "new" : "fetched", what);
      e.keys = std::move(*fetched);
      e.backoff = std::chrono::milliseconds(0);
      e.due = Clock::now() + options_.refresh;
    } else {
      auto cap = std::min(options_.maxRetry, options_.refresh);
      e.backoff = e.backoff.count() == 0 ? std::min(options_.firstRetry, cap) : std::min(e.backoff * 2, cap);
      e.due = Clock::now() + e.backoff;
      log::warn("jwks", "fetching keys for {} failed: {}; {}, retry in {} ms", what, fetched.error().message,
                e.keys ? "the last keys stay in use" : "its tokens are rejected meanwhile", e.backoff.count());
    }
    if (!changed) continue;
    publishLocked();
    lock.unlock();
    if (changed_) changed_();
    lock.lock();
  }
}

}  // namespace mesh::jwks
