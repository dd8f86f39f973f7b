#include "backends/kube/multi_cluster_store.h"

#include <fmt/format.h>

#include "core/yaml/convert.h"

namespace mesh::backends::kube {

using core::EventType;
using core::ResourceKey;
using core::StoredResource;

struct MultiClusterStore::Member {
  std::string name;  // the cluster's ID
  std::string rank;  // "" for the primary, else the name: the second half of a CacheKey
  std::shared_ptr<core::ConfigStore> store;
  core::Subscription subscription;
  bool attached = false;  // under mu_: the member's callbacks may change the cache
};

MultiClusterStore::MultiClusterStore(std::string primaryName)
    : primaryName_(std::move(primaryName)) {}

Result<std::unique_ptr<MultiClusterStore>> MultiClusterStore::open(
    std::shared_ptr<core::ConfigStore> primary, std::string primaryName) {
  std::unique_ptr<MultiClusterStore> out(new MultiClusterStore(std::move(primaryName)));
  auto member = std::make_shared<Member>();
  member->name = out->primaryName_;
  member->store = std::move(primary);
  if (auto r = out->attach(member, nullptr); !r) return Failure(r.error());
  std::lock_guard lock(out->mu_);
  out->primary_ = std::move(member);
  return out;
}

MultiClusterStore::~MultiClusterStore() {
  // Members' callbacks write the cache and the hub: stop them before either goes.
  std::vector<std::shared_ptr<Member>> members;
  {
    std::lock_guard lock(mu_);
    if (primary_) members.push_back(primary_);
    for (auto& [name, m] : remotes_) members.push_back(m);
    for (auto& m : members) m->attached = false;
  }
  for (auto& m : members) m->subscription.reset();
}

Result<void> MultiClusterStore::attach(const std::shared_ptr<Member>& member,
                                       const std::shared_ptr<Member>& replaced) {
  // Watch first, then list. Until the listing is merged the member is not attached and its
  // events are dropped: the listing, taken later, holds their effect. Events after it are
  // ordered against it by the member's own revisions (merge()).
  std::weak_ptr<Member> weak = member;
  auto sub = member->store->watch([this, weak](const core::WatchEvent& e) {
    auto m = weak.lock();
    if (!m) return;
    std::lock_guard lock(mu_);
    if (!m->attached) return;
    std::vector<core::WatchEvent> out;
    merge(*m, e.type, e.item, out);
    if (!out.empty()) hub_.publish(out);
  });
  if (!sub) return Failure(sub.error());
  member->subscription = std::move(*sub);
  Error error;
  {
    std::lock_guard lock(mu_);
    // Listing under mu_ holds the member's callback back until the listing is merged; a
    // store's list() never waits for its own dispatcher, so this cannot deadlock.
    auto listed = member->store->list();
    if (listed) {
      // A replaced store's objects: those the new store holds unchanged cause no event, so a
      // reconnect (a rotated token) does not churn every endpoint of the cluster.
      std::map<ResourceKey, Entry> previous;
      if (replaced) {
        replaced->attached = false;
        for (auto it = objects_.begin(); it != objects_.end();) {
          if (it->first.second != replaced->rank) {
            ++it;
            continue;
          }
          previous.emplace(it->first.first, std::move(it->second));
          it = objects_.erase(it);
        }
      }
      std::vector<core::WatchEvent> out;
      for (const StoredResource& item : *listed) {
        auto old = previous.find(item.key());
        if (old == previous.end()) {
          merge(*member, EventType::Added, item, out);
          continue;
        }
        StoredResource stored = old->second.stored;
        stored.resource = item.resource;
        if (!core::sameValue(old->second.stored.resource.root(), item.resource.root())) {
          stored.revision = ++revision_;
          out.push_back({EventType::Updated, stored});
        }
        objects_.emplace(CacheKey{item.key(), member->rank},
                         Entry{std::move(stored), item.revision});
        previous.erase(old);
      }
      for (auto& [key, entry] : previous)
        out.push_back({EventType::Deleted, StoredResource{entry.stored.resource, ++revision_}});
      member->attached = true;
      if (!out.empty()) hub_.publish(out);
      return {};
    }
    error = listed.error();
  }
  member->subscription.reset();  // outside mu_: its callback takes mu_
  return core::failWith(std::move(error));
}

void MultiClusterStore::merge(const Member& member, EventType type, const StoredResource& item,
                              std::vector<core::WatchEvent>& out) {
  CacheKey key{item.key(), member.rank};
  auto it = objects_.find(key);
  if (type == EventType::Deleted) {
    // Absent, or listed again after this deletion: the listing already says so.
    if (it == objects_.end() || it->second.memberRevision >= item.revision) return;
    out.push_back({EventType::Deleted, StoredResource{item.resource, ++revision_}});
    objects_.erase(it);
    return;
  }
  if (it != objects_.end() && it->second.memberRevision >= item.revision) return;  // seen
  StoredResource stored{item.resource, ++revision_};
  out.push_back({it == objects_.end() ? EventType::Added : EventType::Updated, stored});
  if (it == objects_.end())
    objects_.emplace(std::move(key), Entry{std::move(stored), item.revision});
  else
    it->second = Entry{std::move(stored), item.revision};
}

void MultiClusterStore::detach(const std::shared_ptr<Member>& member) {
  {
    std::lock_guard lock(mu_);
    member->attached = false;
    std::vector<core::WatchEvent> out;
    for (auto it = objects_.begin(); it != objects_.end();) {
      if (it->first.second != member->rank) {
        ++it;
        continue;
      }
      out.push_back({EventType::Deleted, StoredResource{it->second.stored.resource, ++revision_}});
      it = objects_.erase(it);
    }
    if (!out.empty()) hub_.publish(out);
  }
  member->subscription.reset();  // outside mu_: a running callback may be waiting for it
}

Result<void> MultiClusterStore::setCluster(const std::string& name,
                                           std::shared_ptr<core::ConfigStore> store) {
  if (name.empty() || name == primaryName_)
    return fail(ErrorCode::Usage,
                fmt::format("remote cluster name \"{}\" is empty or the local cluster's", name));
  std::lock_guard members(membersMu_);
  std::shared_ptr<Member> old;
  {
    std::lock_guard lock(mu_);
    if (auto it = remotes_.find(name); it != remotes_.end()) old = it->second;
  }
  auto member = std::make_shared<Member>();
  member->name = name;
  member->rank = name;
  member->store = std::move(store);
  if (auto r = attach(member, old); !r) return r;  // the old store, if any, stays
  {
    std::lock_guard lock(mu_);
    remotes_[name] = std::move(member);
  }
  if (old) old->subscription.reset();  // outside mu_: a running callback may be waiting for it
  return {};
}

bool MultiClusterStore::removeCluster(const std::string& name) {
  std::lock_guard members(membersMu_);
  std::shared_ptr<Member> old;
  {
    std::lock_guard lock(mu_);
    auto it = remotes_.find(name);
    if (it == remotes_.end()) return false;
    old = it->second;
    remotes_.erase(it);
  }
  detach(old);
  return true;
}

std::vector<std::string> MultiClusterStore::clusters() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, m] : remotes_) out.push_back(name);
  return out;
}

std::string MultiClusterStore::describe() const {
  std::string out = primary_ ? primary_->store->describe() : std::string("multi-cluster");
  std::vector<std::string> names = clusters();
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "; remote clusters: " : ", ") + names[i];
  return out;
}

uint64_t MultiClusterStore::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

Result<std::vector<StoredResource>> MultiClusterStore::doList(const core::Filter& filter) const {
  std::lock_guard lock(mu_);
  std::vector<StoredResource> out;
  auto begin =
      filter.kind
          ? objects_.lower_bound(CacheKey{{filter.kind->group, filter.kind->kind, "", ""}, ""})
          : objects_.begin();
  for (auto it = begin; it != objects_.end(); ++it) {
    const ResourceKey& key = it->first.first;
    if (filter.kind && (key.group != filter.kind->group || key.kind != filter.kind->kind)) break;
    if (filter.matches(key)) out.push_back(it->second.stored);
  }
  return out;
}

Result<StoredResource> MultiClusterStore::doGet(const ResourceKey& key) const {
  std::lock_guard lock(mu_);
  // The primary's object when it has one, else the first remote cluster's.
  auto it = objects_.lower_bound(CacheKey{key, ""});
  if (it == objects_.end() || it->first.first != key) return core::failWith(notFound(key));
  return it->second.stored;
}

Result<core::Subscription> MultiClusterStore::doWatch(core::WatchCallback callback,
                                                      core::WatchOptions options) {
  std::lock_guard lock(mu_);
  std::vector<core::WatchEvent> initial;
  if (options.replay)
    for (const auto& [key, entry] : objects_)
      if (options.filter.matches(key.first)) initial.push_back({EventType::Added, entry.stored});
  return hub_.subscribe(std::move(callback), std::move(options.filter), std::move(initial));
}

Result<StoredResource> MultiClusterStore::doApply(const core::Resource& r,
                                                  const core::WriteOptions&) {
  // ConfigStore::apply() refuses before this for a store that is not writable.
  return fail(ErrorCode::Usage,
              fmt::format("{}: the multi-cluster store is read-only", r.displayName()));
}

Result<void> MultiClusterStore::doRemove(const ResourceKey& key, const core::WriteOptions&) {
  return fail(ErrorCode::Usage,
              fmt::format("{}: the multi-cluster store is read-only", key.display()));
}

}  // namespace mesh::backends::kube
