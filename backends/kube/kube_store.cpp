#include "backends/kube/kube_store.h"

#include <fmt/format.h>

#include <set>

#include "backends/kube/codec.h"
#include "backends/kube/kube_object.h"
#include "core/kinds.h"
#include "core/log.h"
#include "core/yaml/convert.h"

namespace mesh::backends::kube {

using core::EventType;
using core::ResourceKey;
using core::StoredResource;

struct KubeStore::Kind {
  core::GroupKind gk;
  std::optional<ApiResource> resource;
  KindState state = KindState::Syncing;
  std::string detail;
  std::string resourceVersion;  // the cache holds everything up to here
  size_t objects = 0;
  size_t treesSincePack = 0;  // watch events each bring a Tree of their own
  std::unique_ptr<Reflector> reflector;
};

namespace {

std::string kindName(const core::GroupKind& k) {
  return k.group.empty() ? k.kind : k.kind + "." + k.group;
}

// The first key of a kind in key order: objects_ holds each kind's keys contiguously.
ResourceKey kindStart(const core::GroupKind& gk) { return {gk.group, gk.kind, "", ""}; }

// "10s", "500ms": timeouts in messages.
std::string seconds(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{}ms", d.count());
}

std::string uidOf(const nlohmann::json& object) {
  if (stringAt(object, "kind") == "Status") {
    auto d = object.find("details");
    return d == object.end() ? std::string() : stringAt(*d, "uid");
  }
  return metadataString(object, "uid");
}

}  // namespace

KubeStore::KubeStore(std::shared_ptr<KubeClient> client, Options options)
    : client_(std::move(client)), options_(std::move(options)) {}

KubeStore::~KubeStore() {
  // Reflectors call back into the cache and the hub: stop them before either goes.
  std::vector<std::shared_ptr<Kind>> kinds;
  {
    std::lock_guard lock(mu_);
    for (auto& [gk, k] : kinds_) kinds.push_back(k);
  }
  for (auto& k : kinds)
    if (k->reflector) k->reflector->stop();
}

Result<std::unique_ptr<KubeStore>> KubeStore::connect(const KubeConfigOptions& config,
                                                      Options options) {
  auto rc = loadRestConfig(config);
  if (!rc) return Failure(rc.error());
  for (const auto& w : rc->warnings) log::warn("kube", "{}", w);
  auto client = KubeClient::create(std::move(*rc));
  if (!client) return Failure(client.error());
  return open(std::move(*client), std::move(options));
}

Result<std::unique_ptr<KubeStore>> KubeStore::open(std::shared_ptr<KubeClient> client,
                                                   Options options) {
  std::vector<core::GroupKind> wanted;
  std::set<core::GroupKind> seen;
  for (const auto& gk : options.kinds)
    if (seen.insert(gk).second) wanted.push_back(gk);
  if (options.kinds.empty())
    for (const auto& k : core::allKinds())
      wanted.push_back({std::string(k.group), std::string(k.kind)});
  std::unique_ptr<KubeStore> store(new KubeStore(std::move(client), std::move(options)));
  // Start every mirror first, then wait: the first lists run side by side.
  std::vector<std::shared_ptr<Kind>> started;
  auto resolvedAll = store->client_->discovery().resolveAll(wanted);
  for (size_t i = 0; i < wanted.size(); ++i) {
    const core::GroupKind& gk = wanted[i];
    auto& resolved = resolvedAll[i];
    std::lock_guard trackLock(store->trackMu_);
    auto kind = std::make_shared<Kind>();
    kind->gk = gk;
    if (!resolved) {
      if (resolved.error().code != ErrorCode::NotFound) return Failure(resolved.error());
      kind->state = KindState::NotServed;
      kind->detail = resolved.error().message;
      std::lock_guard lock(store->mu_);
      store->kinds_[gk] = kind;
      continue;
    }
    kind->resource = *resolved;
    {
      std::lock_guard lock(store->mu_);
      store->kinds_[gk] = kind;
    }
    store->startMirror(*kind);
    started.push_back(kind);
  }
  // Kinds that cannot be listed (RBAC, say) are reported by describe() and kept trying; only a
  // cluster none of whose kinds can be read is an error.
  std::optional<Error> firstError;
  size_t synced = 0;
  for (const auto& kind : started) {
    if (auto r = store->waitSynced(kind); r)
      ++synced;
    else if (!firstError)
      firstError = r.error();
  }
  if (firstError && synced == 0) return Failure(*firstError);
  return store;
}

void KubeStore::startMirror(Kind& kind) {
  ReflectorOptions ro = options_.reflector;
  ro.namespace_ = options_.namespace_;
  ro.labelSelector = options_.labelSelector;
  ro.fieldSelector = options_.fieldSelector;
  Kind* k = &kind;
  kind.reflector = client_->watch(
      *kind.resource, ro,
      ReflectorHandler{.onList = [this, k](ObjectList&& l) { onList(*k, std::move(l)); },
                       .onEvent = [this, k](WatchEvent&& e) { onEvent(*k, std::move(e)); },
                       .onError = [this, k](const Error& e) { onError(*k, e); }});
}

Result<void> KubeStore::waitSynced(const std::shared_ptr<Kind>& kind) const {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + options_.syncTimeout;
  // A failure before the first list is final for open() and for a write: retrying would only
  // hide a wrong address or missing permission. The reflector keeps trying all the same.
  bool done =
      changed_.wait_until(lock, deadline, [&] { return kind->state != KindState::Syncing; });
  if (!done)
    return fail(ErrorCode::Unavailable,
                fmt::format("{}: no list of {} within {}", client_->describe(), kindName(kind->gk),
                            seconds(options_.syncTimeout)));
  if (kind->state == KindState::Failing)
    return fail(ErrorCode::Unavailable,
                fmt::format("cannot list {}: {}", kindName(kind->gk), kind->detail));
  return {};
}

Result<std::shared_ptr<KubeStore::Kind>> KubeStore::track(const core::GroupKind& gk) const {
  std::shared_ptr<Kind> kind;
  {
    std::lock_guard lock(mu_);
    auto it = kinds_.find(gk);
    if (it != kinds_.end()) kind = it->second;
  }
  if (!kind) {
    std::lock_guard trackLock(trackMu_);
    {
      std::lock_guard lock(mu_);
      auto it = kinds_.find(gk);
      if (it != kinds_.end()) kind = it->second;
    }
    if (!kind) {
      auto resolved = client_->discovery().resolve(gk);
      if (!resolved) return Failure(resolved.error());
      kind = std::make_shared<Kind>();
      kind->gk = gk;
      kind->resource = *resolved;
      {
        std::lock_guard lock(mu_);
        kinds_[gk] = kind;
      }
      // The cache is the store's state, not its value: const reads may start mirroring a kind.
      const_cast<KubeStore*>(this)->startMirror(*kind);
    }
  }
  bool notServed;
  {
    std::lock_guard lock(mu_);
    notServed = kind->state == KindState::NotServed;
  }
  if (notServed) {
    // A CRD installed since: discovery may know it now.
    auto resolved = client_->discovery().resolve(gk);
    if (!resolved) return Failure(resolved.error());
    {
      std::lock_guard lock(mu_);
      auto it = kinds_.find(gk);
      if (it != kinds_.end() && it->second == kind) kinds_.erase(it);
    }
    return track(gk);
  }
  if (auto r = waitSynced(kind); !r) return Failure(r.error());
  return kind;
}

std::optional<core::WatchEvent> KubeStore::upsert(Kind& kind, core::Resource resource,
                                                  std::string rv, std::string uid) {
  ResourceKey key = ResourceKey::of(resource);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    StoredResource stored{std::move(resource), ++revision_};
    objects_.emplace(key, Entry{stored, std::move(rv), std::move(uid)});
    ++kind.objects;
    return core::WatchEvent{EventType::Added, std::move(stored)};
  }
  Entry& e = it->second;
  e.resourceVersion = std::move(rv);
  e.uid = std::move(uid);
  // A change the store does not keep (managedFields, say) moves the resourceVersion only.
  if (core::sameValue(e.stored.resource.root(), resource.root())) {
    e.stored.resource = std::move(resource);
    return std::nullopt;
  }
  e.stored = StoredResource{std::move(resource), ++revision_};
  return core::WatchEvent{EventType::Updated, e.stored};
}

void KubeStore::onList(Kind& kind, ObjectList&& list) {
  // Convert outside the lock; one Tree for the whole list.
  ResourceBatch batch;
  struct Item {
    core::Resource resource;
    std::string rv, uid;
  };
  std::vector<Item> items;
  items.reserve(list.items.size());
  for (auto& object : list.items) {
    std::string rv = metadataString(object, "resourceVersion");
    std::string uid = metadataString(object, "uid");
    items.push_back({batch.add(std::move(object)), std::move(rv), std::move(uid)});
  }
  std::lock_guard lock(mu_);
  std::vector<core::WatchEvent> events;
  std::set<ResourceKey> seen;
  for (auto& item : items) {
    seen.insert(ResourceKey::of(item.resource));
    if (auto e = upsert(kind, std::move(item.resource), std::move(item.rv), std::move(item.uid)))
      events.push_back(std::move(*e));
  }
  // What the list no longer has was deleted while we were not watching (client-go's Replace).
  for (auto it = objects_.lower_bound(kindStart(kind.gk)); it != objects_.end() &&
                                                           it->first.group == kind.gk.group &&
                                                           it->first.kind == kind.gk.kind;) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    events.push_back(
        {EventType::Deleted, StoredResource{std::move(it->second.stored.resource), ++revision_}});
    it = objects_.erase(it);
    --kind.objects;
  }
  kind.treesSincePack = 0;
  kind.resourceVersion = list.resourceVersion;
  kind.state = KindState::Synced;
  kind.detail.clear();
  if (!events.empty()) hub_.publish(events);
  changed_.notify_all();
}

void KubeStore::onEvent(Kind& kind, WatchEvent&& event) {
  std::string rv = metadataString(event.object, "resourceVersion");
  if (event.type == WatchEventType::Bookmark) {
    std::lock_guard lock(mu_);
    if (!rv.empty()) kind.resourceVersion = rv;
    kind.detail.clear();  // the watch is healthy again
    changed_.notify_all();
    return;
  }
  std::string uid = metadataString(event.object, "uid");
  ResourceBatch batch;
  core::Resource resource = batch.add(std::move(event.object));
  std::lock_guard lock(mu_);
  if (!rv.empty()) kind.resourceVersion = rv;
  kind.detail.clear();  // events flow again: whatever failed has recovered
  if (event.type == WatchEventType::Deleted) {
    auto it = objects_.find(ResourceKey::of(resource));
    if (it != objects_.end()) {
      objects_.erase(it);
      --kind.objects;
      // The event's object is the last state the server had (with the deletion's version).
      hub_.publish({EventType::Deleted, StoredResource{std::move(resource), ++revision_}});
    }
  } else {
    ++kind.treesSincePack;
    if (auto e = upsert(kind, std::move(resource), std::move(rv), std::move(uid)))
      hub_.publish(std::move(*e));
    repackIfFragmented(kind);
  }
  changed_.notify_all();
}

void KubeStore::repackIfFragmented(Kind& kind) {
  // Each event's Tree reserves a whole arena chunk: once events have replaced about as many
  // objects as the kind has, copy the kind into one Tree so memory tracks the objects' size.
  if (kind.treesSincePack < std::max<size_t>(64, kind.objects)) return;
  auto tree = std::make_shared<core::Tree>("");
  for (auto it = objects_.lower_bound(kindStart(kind.gk));
       it != objects_.end() && it->first.group == kind.gk.group && it->first.kind == kind.gk.kind;
       ++it) {
    const core::Resource& old = it->second.stored.resource;
    const core::Node* root = core::fromJson(tree->arena(), core::toJson(old.root()));
    it->second.stored.resource = core::Resource(tree, root, old.info(), "");
  }
  kind.treesSincePack = 0;
}

void KubeStore::onError(Kind& kind, const Error& error) {
  std::lock_guard lock(mu_);
  // After the first list the cache stays usable; the reflector keeps retrying either way.
  if (kind.state != KindState::Synced) kind.state = KindState::Failing;
  kind.detail = error.message;
  changed_.notify_all();
}

uint64_t KubeStore::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

std::vector<KubeStore::KindStatus> KubeStore::kinds() const {
  std::lock_guard lock(mu_);
  std::vector<KindStatus> out;
  for (const auto& [gk, k] : kinds_) out.push_back({gk, k->state, k->detail});
  return out;
}

std::string KubeStore::describe() const {
  std::string out = "kubernetes " + client_->describe();
  std::string notServed, failing;
  {
    std::lock_guard lock(mu_);
    for (const auto& [gk, k] : kinds_) {
      if (k->state == KindState::NotServed)
        notServed += (notServed.empty() ? "" : ", ") + kindName(gk);
      if (k->state == KindState::Failing || (k->state == KindState::Synced && !k->detail.empty()))
        failing += fmt::format("{}{} ({})", failing.empty() ? "" : ", ", kindName(gk), k->detail);
    }
  }
  if (!notServed.empty()) out += "; not served: " + notServed;
  if (!failing.empty()) out += "; failing: " + failing;
  return out;
}

Result<std::vector<StoredResource>> KubeStore::doList(const core::Filter& filter) const {
  if (filter.kind) {
    auto kind = track(*filter.kind);
    if (!kind && kind.error().code == ErrorCode::NotFound) return std::vector<StoredResource>{};
    if (!kind) return Failure(kind.error());
  }
  std::lock_guard lock(mu_);
  std::vector<StoredResource> out;
  auto begin = filter.kind ? objects_.lower_bound(kindStart(*filter.kind)) : objects_.begin();
  for (auto it = begin; it != objects_.end(); ++it) {
    if (filter.kind &&
        (it->first.group != filter.kind->group || it->first.kind != filter.kind->kind))
      break;
    if (filter.matches(it->first)) out.push_back(it->second.stored);
  }
  return out;
}

Result<StoredResource> KubeStore::doGet(const ResourceKey& key) const {
  auto kind = track({key.group, key.kind});
  if (!kind && kind.error().code == ErrorCode::NotFound) return core::failWith(notFound(key));
  if (!kind) return Failure(kind.error());
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return core::failWith(notFound(key));
  return it->second.stored;
}

Result<core::Subscription> KubeStore::doWatch(core::WatchCallback callback,
                                              core::WatchOptions options) {
  if (options.filter.kind)
    if (auto kind = track(*options.filter.kind); !kind && kind.error().code != ErrorCode::NotFound)
      return Failure(kind.error());
  std::lock_guard lock(mu_);
  std::vector<core::WatchEvent> initial;
  if (options.replay)
    for (const auto& [key, entry] : objects_)
      if (options.filter.matches(key)) initial.push_back({EventType::Added, entry.stored});
  return hub_.subscribe(std::move(callback), std::move(options.filter), std::move(initial));
}

bool KubeStore::waitFor(std::unique_lock<std::mutex>& lock,
                        const std::function<bool()>& pred) const {
  return changed_.wait_for(lock, options_.writeTimeout, pred);
}

Error KubeStore::unconfirmed(const ResourceKey& key) const {
  return Error{ErrorCode::Unavailable,
               fmt::format("the API server accepted the change to {}, but the store's watch did "
                           "not show it within {}",
                           key.display(), seconds(options_.writeTimeout)),
               "the watch may be reconnecting; list again to see the current state"};
}

std::optional<Error> KubeStore::outsideNamespace(const ApiResource& api,
                                                 const ResourceKey& key) const {
  if (options_.namespace_.empty() || !api.namespaced || key.namespace_ == options_.namespace_)
    return std::nullopt;
  return Error{ErrorCode::Usage,
               fmt::format("{}: this store mirrors namespace \"{}\" only", key.display(),
                           options_.namespace_),
               {}};
}

Result<StoredResource> KubeStore::doApply(const core::Resource& r,
                                          const core::WriteOptions& options) {
  ResourceKey key = ResourceKey::of(r);
  auto kind = track({key.group, key.kind});
  if (!kind) return Failure(kind.error());
  ApiResource api = *(*kind)->resource;
  if (auto bad = outsideNamespace(api, key)) return core::failWith(*bad);
  if (r.version() != api.version) {
    // Write in the version the manifest is in; the server converts.
    auto inVersion = client_->discovery().resolve({key.group, key.kind}, r.version());
    if (!inVersion) return Failure(inVersion.error());
    api = *inVersion;
  }
  nlohmann::json body = resourceToJson(r);
  nlohmann::json& meta = body["metadata"];
  meta.erase("resourceVersion");
  if (api.namespaced)
    meta["namespace"] = key.namespace_;
  else
    meta.erase("namespace");

  Result<nlohmann::json> written = nlohmann::json();
  if (options.ifRevision) {
    std::string rv;
    {
      std::lock_guard lock(mu_);
      auto it = objects_.find(key);
      uint64_t current = it == objects_.end() ? 0 : it->second.stored.revision;
      if (auto bad = checkRevision(key, options, current)) return core::failWith(*bad);
      if (it != objects_.end()) rv = it->second.resourceVersion;
    }
    if (*options.ifRevision == 0) {
      written = client_->create(api, body);
      if (!written && written.error().code == ErrorCode::Conflict)
        return fail(ErrorCode::Conflict, fmt::format("{} already exists", key.display()),
                    "get the object again and retry");
    } else {
      // The server checks this precondition atomically with the write.
      meta["resourceVersion"] = rv;
      written = client_->apply(api, body,
                               {.fieldManager = options_.fieldManager,
                                .force = options_.forceConflicts,
                                .dryRun = false});
      if (!written && written.error().code == ErrorCode::Conflict)
        return fail(ErrorCode::Conflict,
                    fmt::format("{} changed since revision {}", key.display(), *options.ifRevision),
                    "get the object again and retry");
    }
  } else {
    written = client_->apply(
        api, body,
        {.fieldManager = options_.fieldManager, .force = options_.forceConflicts, .dryRun = false});
  }
  if (!written) return Failure(written.error());
  std::string rv = metadataString(*written, "resourceVersion");

  Kind& k = **kind;
  std::unique_lock lock(mu_);
  bool seen = waitFor(lock, [&] {
    auto it = objects_.find(key);
    if (it != objects_.end() && it->second.resourceVersion == rv) return true;
    auto cmp = compareResourceVersions(k.resourceVersion, rv);
    return cmp && *cmp >= 0;
  });
  if (!seen) return core::failWith(unconfirmed(key));
  auto it = objects_.find(key);
  if (it != objects_.end()) return it->second.stored;
  // Deleted again by someone else before we looked: report what we wrote.
  ResourceBatch batch;
  return StoredResource{batch.add(std::move(*written)), revision_};
}

Result<void> KubeStore::doRemove(const ResourceKey& key, const core::WriteOptions& options) {
  auto kind = track({key.group, key.kind});
  if (!kind && kind.error().code == ErrorCode::NotFound) return core::failWith(notFound(key));
  if (!kind) return Failure(kind.error());
  const ApiResource& api = *(*kind)->resource;
  if (auto bad = outsideNamespace(api, key)) return core::failWith(*bad);
  DeleteOptions del{.propagationPolicy = options_.propagationPolicy};
  std::string cachedUid;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it != objects_.end()) cachedUid = it->second.uid;
    if (options.ifRevision) {
      uint64_t current = it == objects_.end() ? 0 : it->second.stored.revision;
      if (auto bad = checkRevision(key, options, current)) return core::failWith(*bad);
      if (it == objects_.end())
        return core::failWith(notFound(key));  // "must not exist", and it does not
      del.resourceVersion = it->second.resourceVersion;
    }
  }
  auto deleted = client_->remove(api, key.namespace_, key.name, del);
  if (!deleted && deleted.error().code == ErrorCode::NotFound) return core::failWith(notFound(key));
  if (!deleted && deleted.error().code == ErrorCode::Conflict && options.ifRevision)
    return fail(ErrorCode::Conflict,
                fmt::format("{} changed since revision {}", key.display(), *options.ifRevision),
                "get the object again and retry");
  if (!deleted) return Failure(deleted.error());
  std::string uid = uidOf(*deleted);
  if (uid.empty()) uid = cachedUid;
  // Done when the watch shows the object gone (or replaced by a new one of the same name).
  // Finalizers may hold it for a while: like kubectl delete, wait for them.
  std::unique_lock lock(mu_);
  bool seen = waitFor(lock, [&] {
    auto it = objects_.find(key);
    return it == objects_.end() || (!uid.empty() && it->second.uid != uid);
  });
  if (!seen) {
    auto it = objects_.find(key);
    const core::Node* meta = it == objects_.end() ? nullptr : it->second.stored.resource.metadata();
    const core::Node* finalizers = meta ? meta->get("finalizers") : nullptr;
    if (finalizers && finalizers->size() > 0) {
      std::string list;
      for (const core::Node* f : finalizers->items())
        list += (list.empty() ? "" : ", ") + std::string(f->text());
      return fail(
          ErrorCode::Unavailable,
          fmt::format("{} is being deleted, but finalizers still hold it after {}: {}",
                      key.display(), seconds(options_.writeTimeout), list),
          "the controllers that own these finalizers remove them when their cleanup is done");
    }
  }
  if (!seen) return core::failWith(unconfirmed(key));
  return {};
}

}  // namespace mesh::backends::kube
