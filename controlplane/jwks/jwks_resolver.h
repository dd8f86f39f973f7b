// JwksResolver: meshd's cache of the JSON Web Key Sets that RequestAuthentication rules name by
// `jwksUri` or by `issuer` alone (OpenID discovery), after Istio's JwtKeyResolver: keys are
// fetched off the push path on the resolver's own thread, refreshed every `refresh`, retried
// with backoff on failure (the last good keys stay in use meanwhile), and a change calls back
// so meshd pushes listeners again. The push loop calls track() and keys() from its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "controlplane/jwks/jwks_fetcher.h"
#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/jwt_keys.h"

namespace mesh::jwks {

// One key set to keep: by jwksUri, or (jwksUri empty) by the issuer's discovery document.
struct JwksSource {
  std::string jwksUri;
  std::string issuer;
  auto operator<=>(const JwksSource&) const = default;
};

// The sources a snapshot's RequestAuthentications need (every jwtRule without inline `jwks`),
// each with the longest fetch `timeout` its rules give (0 when none does).
using JwksSources = std::map<JwksSource, std::chrono::milliseconds>;
JwksSources jwksSources(const model::ConfigSnapshot& snapshot);

struct JwksResolverOptions {
  std::chrono::milliseconds refresh = std::chrono::minutes(20);  // Istio's JwtPubKeyRefreshInterval
  // One fetch's time limit when the rule sets no `timeout` (Istio's default 5 s); a rule's own
  // is capped at maxFetchTimeout, as one thread fetches every source in turn.
  std::chrono::milliseconds fetchTimeout = std::chrono::seconds(5);
  std::chrono::milliseconds maxFetchTimeout = std::chrono::seconds(60);
  // After a failed fetch: retry after firstRetry, doubling per failure up to maxRetry (and never
  // later than the next refresh would be).
  std::chrono::milliseconds firstRetry = std::chrono::seconds(1);
  std::chrono::milliseconds maxRetry = std::chrono::minutes(5);
};

class JwksResolver {
 public:
  JwksResolver(std::unique_ptr<JwksFetcher> fetcher, JwksResolverOptions options);
  ~JwksResolver();  // stop()
  JwksResolver(const JwksResolver&) = delete;
  JwksResolver& operator=(const JwksResolver&) = delete;

  // The sources the current config needs: new ones are fetched at once, the others forgotten.
  // Once start()ed, waits for the first fetch of the new ones (each within its timeout, all
  // within maxFetchTimeout), as istiod fetches a key set it has not seen on the push path, so
  // the first push with a new jwksUri carries its keys. True when keys() changed meanwhile.
  bool track(const JwksSources& sources);
  // The keys fetched so far for the tracked sources; never null.
  std::shared_ptr<const model::JwtKeys> keys() const;

  // Starts the fetch thread. `changed` runs on it whenever keys() has changed.
  void start(std::function<void()> changed);
  // Cancels a fetch in flight and joins the thread. Idempotent.
  void stop();

 private:
  struct Entry {
    std::optional<std::string> keys;  // the last good JWKS
    std::chrono::steady_clock::time_point due;
    std::chrono::milliseconds backoff{0};  // 0 after a success
    std::chrono::milliseconds timeout{0};  // the rules' `timeout`; 0: options_.fetchTimeout
    bool attempted = false;                // fetched once, or failed once
  };
  std::chrono::milliseconds effectiveTimeout(std::chrono::milliseconds ruleTimeout) const;
  void run();
  Result<std::string> fetch(const JwksSource& source, std::chrono::milliseconds timeout);
  void publishLocked();  // rebuilds keys_ from entries_

  std::unique_ptr<JwksFetcher> fetcher_;
  JwksResolverOptions options_;
  std::function<void()> changed_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<JwksSource, Entry> entries_;
  std::shared_ptr<const model::JwtKeys> keys_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;  // under mu_
  std::thread thread_;
};

}  // namespace mesh::jwks
