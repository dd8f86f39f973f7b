#include "backends/kube/remote_clusters.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "backends/kube/codec.h"
#include "core/log.h"

namespace mesh::backends::kube {
namespace {

constexpr std::string_view kLog = "multicluster";

std::string seconds(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{}ms", d.count());
}

}  // namespace

Result<RestConfig> remoteRestConfig(const std::string& origin, std::string_view kubeconfig) {
  auto config = parseKubeConfig(origin, kubeconfig);
  if (!config) return Failure(config.error());
  auto refuse = [&](std::string what) -> Result<RestConfig> {
    // Istio refuses exec plugins in remote secrets for the same reason: whoever can write a
    // Secret in meshd's namespace must not be able to run programs or read files as meshd.
    return fail(ErrorCode::InvalidInput, fmt::format("{}: {}", origin, what),
                "put the credential itself in the kubeconfig: token, client-certificate-data, "
                "client-key-data, certificate-authority-data (as create-remote-secret writes it)");
  };
  if (auto ctx = config->contexts.find(config->currentContext); ctx != config->contexts.end()) {
    if (auto cl = config->clusters.find(ctx->second.cluster);
        cl != config->clusters.end() && !cl->second.certificateAuthority.empty())
      return refuse(
          fmt::format("cluster \"{}\" reads certificate-authority from a file on meshd's disk; "
                      "refused",
                      ctx->second.cluster));
    if (auto us = config->users.find(ctx->second.user); us != config->users.end()) {
      const KubeUser& u = us->second;
      std::string user = ctx->second.user;
      if (u.exec)
        return refuse(
            fmt::format("user \"{}\" runs the exec credential plugin \"{}\"; a remote secret may "
                        "not make meshd run programs, refused",
                        user, u.exec->command));
      if (!u.tokenFile.empty())
        return refuse(fmt::format("user \"{}\" reads tokenFile from meshd's disk; refused", user));
      if (!u.clientCertificate.empty() || !u.clientKey.empty())
        return refuse(fmt::format(
            "user \"{}\" reads a client certificate or key from meshd's disk; refused", user));
    }
  }
  auto rc = resolveContext(*config, KubeConfigOptions{});
  if (!rc) return rc;
  // resolveContext reads nothing beyond what was checked above; hold it to that.
  if (rc->exec || !rc->tokenFile.empty())
    return refuse("the kubeconfig needs local programs or files; refused");
  return rc;
}

struct RemoteClusters::Cluster {
  std::string name;
  std::string secret;
  std::string kubeconfig;
  std::mutex mu;  // below; held while the store is handed to the target
  std::condition_variable wake;
  bool stop = false;
  bool inTarget = false;   // setCluster succeeded: retiring must remove it
  bool replacing = false;  // the target holds the previous generation's store under this name
  State state = State::Connecting;
  std::string detail;
  std::atomic<bool> done{false};  // the thread has returned and may be joined
  std::thread thread;
};

RemoteClusters::RemoteClusters(std::shared_ptr<KubeClient> local, MultiClusterStore& target,
                               Options options)
    : local_(std::move(local)), target_(target), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

RemoteClusters::~RemoteClusters() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<std::shared_ptr<Cluster>> all = retired_;
  for (auto& [name, c] : clusters_) all.push_back(c);
  for (auto& c : all) {
    {
      std::lock_guard lock(c->mu);
      c->stop = true;
    }
    c->wake.notify_all();
  }
  // A cluster in the middle of its first lists finishes them (syncTimeout at most).
  for (auto& c : all)
    if (c->thread.joinable()) c->thread.join();
}

bool RemoteClusters::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return wake_.wait_for(lock, d, [&] { return stopping_; });
}

void RemoteClusters::run() {
  KubeStoreOptions so;
  so.kinds = {{"", "Secret"}};
  so.namespace_ = options_.namespace_;
  so.labelSelector = fmt::format("{}=true", kMultiClusterLabel);
  so.readOnly = true;
  so.syncTimeout = options_.syncTimeout;
  std::unique_ptr<KubeStore> secrets;
  for (auto backoff = options_.retryBase; !secrets;) {
    auto opened = KubeStore::open(local_, so);
    if (opened) {
      secrets = std::move(*opened);
      break;
    }
    log::warn(kLog, "cannot watch remote secrets in namespace {}: {}; retrying in {}",
              options_.namespace_, opened.error().message, seconds(backoff));
    if (sleepFor(backoff)) return;
    backoff = std::min(backoff * 2, options_.retryMax);
  }
  log::info(kLog, "watching Secrets labelled {}=true in namespace {} for remote clusters",
            kMultiClusterLabel, options_.namespace_);
  core::WatchOptions wo;
  wo.filter.kind = core::GroupKind{"", "Secret"};
  auto sub = secrets->watch(
      [this](const core::WatchEvent&) {
        std::lock_guard lock(mu_);
        dirty_ = true;
        wake_.notify_all();
      },
      wo);
  if (!sub) {
    log::error(kLog, "cannot watch remote secrets: {}", sub.error().message);
    return;
  }
  {
    std::lock_guard lock(mu_);
    dirty_ = true;  // the Secrets already there
  }
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || dirty_; });
      if (stopping_) break;
      dirty_ = false;
    }
    reconcile(*secrets);
  }
  sub->reset();  // before `secrets` goes
}

std::map<std::string, RemoteClusters::Wanted> RemoteClusters::wantedClusters(KubeStore& secrets) {
  std::map<std::string, Wanted> wanted;
  auto listed = secrets.list(core::Filter{.kind = core::GroupKind{"", "Secret"}, .namespace_ = {}});
  if (!listed) {
    log::warn(kLog, "cannot list remote secrets: {}", listed.error().message);
    std::lock_guard lock(mu_);
    for (const auto& [name, c] : clusters_)
      wanted[name] = {c->secret, c->kubeconfig};  // keep what runs
    return wanted;
  }
  std::set<std::string> warned;
  auto note = [&](std::string message) {
    if (!warned_.contains(message)) log::warn(kLog, "{}", message);
    warned.insert(std::move(message));
  };
  for (const core::StoredResource& item : *listed) {
    const core::Resource& r = item.resource;
    std::string secret = fmt::format("{}/{}", r.namespace_(), r.name());
    const core::Node* data = r.root().get("data");
    if (!data || !data->isMapping()) continue;
    for (const core::MapEntry& e : data->entries()) {
      std::string name(e.key->text());
      if (name == options_.localClusterId) {
        note(fmt::format("secret {} key {}: that is this cluster's ID (--cluster-id); skipped",
                         secret, name));
        continue;
      }
      if (auto other = wanted.find(name); other != wanted.end()) {
        note(fmt::format("secret {} key {}: cluster {} is already defined by secret {}; skipped",
                         secret, name, name, other->second.secret));
        continue;
      }
      auto decoded = e.value ? base64Decode(e.value->text()) : std::nullopt;
      if (!decoded) {
        note(fmt::format("secret {} key {}: the value is not base64; skipped", secret, name));
        continue;
      }
      wanted[name] = Wanted{secret, std::move(*decoded)};
    }
  }
  warned_ = std::move(warned);  // only the run thread touches it
  return wanted;
}

void RemoteClusters::reconcile(KubeStore& secrets) {
  std::map<std::string, Wanted> wanted = wantedClusters(secrets);
  std::vector<std::pair<std::shared_ptr<Cluster>, bool>>
      gone;  // and whether its kubeconfig changed
  {
    std::lock_guard lock(mu_);
    for (auto it = clusters_.begin(); it != clusters_.end();) {
      auto w = wanted.find(it->first);
      if (w != wanted.end() && w->second.kubeconfig == it->second->kubeconfig) {
        wanted.erase(w);  // unchanged: keeps running
        ++it;
        continue;
      }
      gone.emplace_back(it->second, w != wanted.end());
      it = clusters_.erase(it);
    }
  }
  std::set<std::string> replacing;
  for (auto& [cluster, changed] : gone) {
    log::info(kLog, "remote cluster {} (secret {}): {}", cluster->name, cluster->secret,
              changed ? "kubeconfig changed, reconnecting"
                      : "secret or key removed, dropping the cluster");
    if (retire(cluster, !changed)) replacing.insert(cluster->name);
  }
  for (auto& [name, w] : wanted) startCluster(name, std::move(w), replacing.contains(name));
  // Join the retired threads that have finished.
  std::vector<std::shared_ptr<Cluster>> finished;
  {
    std::lock_guard lock(mu_);
    auto split = std::stable_partition(retired_.begin(), retired_.end(),
                                       [](const auto& c) { return !c->done; });
    finished.assign(split, retired_.end());
    retired_.erase(split, retired_.end());
  }
  for (auto& c : finished)
    if (c->thread.joinable()) c->thread.join();
}

void RemoteClusters::startCluster(const std::string& name, Wanted wanted, bool replacing) {
  auto cluster = std::make_shared<Cluster>();
  cluster->name = name;
  cluster->replacing = replacing;
  cluster->secret = std::move(wanted.secret);
  cluster->kubeconfig = std::move(wanted.kubeconfig);
  log::info(kLog, "remote cluster {} (secret {}): connecting", name, cluster->secret);
  std::lock_guard lock(mu_);
  cluster->thread = std::thread([this, cluster] { connect(cluster); });
  clusters_[name] = std::move(cluster);
}

bool RemoteClusters::retire(const std::shared_ptr<Cluster>& cluster, bool drop) {
  bool held;
  {
    // Taken while a store is being handed over: after this, the thread never touches the
    // target again.
    std::lock_guard lock(cluster->mu);
    cluster->stop = true;
    held = cluster->inTarget || cluster->replacing;
  }
  cluster->wake.notify_all();
  if (held && drop) {
    target_.removeCluster(cluster->name);
    held = false;
  }
  std::lock_guard lock(mu_);
  retired_.push_back(cluster);
  return held;
}

void RemoteClusters::connect(const std::shared_ptr<Cluster>& cl) {
  std::string origin = fmt::format("secret {} key {}", cl->secret, cl->name);
  auto rc = remoteRestConfig(origin, cl->kubeconfig);
  if (!rc) {
    // Retrying cannot help: the Secret has to change, and that starts a new attempt.
    log::error(kLog, "remote cluster {}: {}", cl->name, rc.error().message);
    std::lock_guard lock(cl->mu);
    if (cl->replacing && !cl->stop) target_.removeCluster(cl->name);  // the old credentials go too
    cl->replacing = false;
    cl->state = State::Refused;
    cl->detail = rc.error().message;
    cl->done = true;
    return;
  }
  for (const auto& w : rc->warnings) log::warn(kLog, "remote cluster {}: {}", cl->name, w);
  KubeStoreOptions so;
  so.kinds = options_.kinds;
  so.readOnly = true;
  so.syncTimeout = options_.syncTimeout;
  for (auto backoff = options_.retryBase;; backoff = std::min(backoff * 2, options_.retryMax)) {
    Result<std::unique_ptr<KubeStore>> opened = fail(ErrorCode::Internal, "not opened");
    if (auto client = KubeClient::create(*rc, options_.rest); client)
      opened = KubeStore::open(std::move(*client), so);
    else
      opened = Failure(client.error());
    std::unique_lock lock(cl->mu);
    if (cl->stop) break;
    std::optional<Error> error;
    if (opened) {
      std::shared_ptr<KubeStore> store = std::move(*opened);
      std::string description = store->describe();
      if (auto set = target_.setCluster(cl->name, store); set) {
        cl->inTarget = true;
        cl->replacing = false;
        cl->state = State::Connected;
        cl->detail = description;
        log::info(kLog, "remote cluster {} (secret {}): connected to {}", cl->name, cl->secret,
                  description);
        break;
      } else {
        error = set.error();
      }
    } else {
      error = opened.error();
    }
    if (cl->replacing) {
      // The new kubeconfig does not work: serving the old one's view would hide that.
      target_.removeCluster(cl->name);
      cl->replacing = false;
    }
    cl->state = State::Failing;
    cl->detail = error->message;
    log::warn(kLog, "remote cluster {} (secret {}): {}; retrying in {}", cl->name, cl->secret,
              error->message, seconds(backoff));
    if (cl->wake.wait_for(lock, backoff, [&] { return cl->stop; })) break;
  }
  cl->done = true;
}

std::vector<RemoteClusters::ClusterStatus> RemoteClusters::status() const {
  std::lock_guard lock(mu_);
  std::vector<ClusterStatus> out;
  for (const auto& [name, c] : clusters_) {
    std::lock_guard cl(c->mu);
    out.push_back({name, c->secret, c->state, c->detail});
  }
  return out;
}

}  // namespace mesh::backends::kube
