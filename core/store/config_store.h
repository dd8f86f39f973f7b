// ConfigStore: the one interface every config backend implements (directory, Kubernetes,
// memory), modelled on Kuma's ResourceStore: list, get, watch, and writes where the backend
// allows them. The public methods check the contract once, here, then call the backend's do*().
// Every method may be called from any thread; watch callbacks run on a thread the store owns,
// one at a time and in the order the changes happened. Header-only so core stays backend-free.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/resource.h"
#include "core/result.h"

namespace mesh::core {

// Passes on an Error that is already made, as a failed Result of any type.
inline auto failWith(Error e) { return fail(e.code, std::move(e.message), std::move(e.hint)); }

// API group and kind: "networking.istio.io" + "VirtualService"; "" + "Service" for core kinds.
struct GroupKind {
  std::string group;
  std::string kind;
  friend auto operator<=>(const GroupKind&, const GroupKind&) = default;
};

// Identity of a stored object. Cluster-scoped kinds have namespace_ "". Ordered by group, kind,
// namespace, name: the order list() returns.
struct ResourceKey {
  std::string group;
  std::string kind;
  std::string namespace_;
  std::string name;

  static ResourceKey of(const Resource& r) {
    return {std::string(r.group()), std::string(r.kind()), std::string(r.namespace_()),
            std::string(r.name())};
  }
  // "VirtualService.networking.istio.io default/reviews", "Namespace prod": kubectl's kind.group
  // form.
  std::string display() const {
    std::string out = group.empty() ? kind : kind + "." + group;
    out += ' ';
    if (!namespace_.empty()) out += namespace_ + "/";
    return out + name;
  }
  friend auto operator<=>(const ResourceKey&, const ResourceKey&) = default;
};

// An object as a store holds it. `revision` is the store's counter at the object's last change:
// strictly increasing over the store's changes, like a single-etcd resourceVersion. It starts
// again at 1 when a store is created (directory stores do not persist it).
struct StoredResource {
  Resource resource;
  uint64_t revision = 0;
  ResourceKey key() const { return ResourceKey::of(resource); }
};

// What list() and watch() select. An unset member matches everything; namespace_ "" selects
// cluster-scoped objects.
struct Filter {
  std::optional<GroupKind> kind{};
  std::optional<std::string> namespace_{};

  bool matches(const ResourceKey& k) const {
    return (!kind || (kind->group == k.group && kind->kind == k.kind)) &&
           (!namespace_ || *namespace_ == k.namespace_);
  }
};

enum class EventType { Added, Updated, Deleted };

inline std::string_view eventTypeName(EventType t) {
  switch (t) {
    case EventType::Added:
      return "Added";
    case EventType::Updated:
      return "Updated";
    case EventType::Deleted:
      return "Deleted";
  }
  return "?";
}

// For Deleted, `item.resource` is the last known object and `item.revision` the revision of
// the deletion (so revisions of one subscription's events strictly increase).
struct WatchEvent {
  EventType type = EventType::Added;
  StoredResource item;
};

using WatchCallback = std::function<void(const WatchEvent&)>;

struct WatchOptions {
  Filter filter{};
  // Deliver every current object (matching the filter, in key order) as Added before any
  // change: a race-free list+watch in one call.
  bool replay = false;
};

// RAII handle of a watch. Destroying or reset() unsubscribes; once that returns, the callback
// is not running and will not run again (when called from inside the callback itself, the
// callback finishes normally and is not called again), so do not reset it while holding a lock
// the callback takes. Safe to outlive the store.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::exchange(o.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      reset();
      cancel_ = std::exchange(o.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  void reset() {
    if (auto cancel = std::exchange(cancel_, nullptr)) cancel();
  }
  bool active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

struct Capabilities {
  bool writable = false;
};

// Optimistic concurrency for writes, as Kubernetes' resourceVersion precondition: when set, the
// object's current revision must equal it (0: the object must not exist), or the write fails
// with Conflict.
struct WriteOptions {
  std::optional<uint64_t> ifRevision{};
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // "memory", "directory /etc/mesh": names the store in messages.
  virtual std::string describe() const = 0;
  virtual Capabilities capabilities() const = 0;
  // The revision of the latest change (0 before any).
  virtual uint64_t revision() const = 0;

  // Matching objects sorted by key.
  Result<std::vector<StoredResource>> list(const Filter& filter = {}) const {
    auto out = doList(filter);
    if (out && !std::ranges::is_sorted(*out, {}, &StoredResource::key))
      std::ranges::sort(*out, {}, &StoredResource::key);
    return out;
  }

  // NotFound when absent.
  Result<StoredResource> get(const ResourceKey& key) const {
    if (auto bad = checkKey(key)) return failWith(*bad);
    return doGet(key);
  }

  Result<Subscription> watch(WatchCallback callback, WatchOptions options = {}) {
    if (!callback) return fail(ErrorCode::Usage, "watch needs a callback");
    return doWatch(std::move(callback), std::move(options));
  }

  // Creates or replaces the object with r's key. Applying what the store already holds (same
  // meaning, see sameValue) changes nothing: no event, no new revision. Returns the object as
  // stored.
  Result<StoredResource> apply(const Resource& r, const WriteOptions& options = {}) {
    if (auto bad = checkWritable()) return failWith(*bad);
    if (auto bad = checkObject(r)) return failWith(*bad);
    return doApply(r, options);
  }

  // Deletes the object; NotFound when absent.
  Result<void> remove(const ResourceKey& key, const WriteOptions& options = {}) {
    if (auto bad = checkWritable()) return failWith(*bad);
    if (auto bad = checkKey(key)) return failWith(*bad);
    return doRemove(key, options);
  }

  // Kubernetes' rules for metadata.name (DNS-1123 subdomain) and namespace (DNS-1123 label).
  static bool validName(std::string_view s) { return validDns(s, 253, true); }
  static bool validNamespace(std::string_view s) { return validDns(s, 63, false); }

 protected:
  // Backends: called only with arguments that passed the contract checks above.
  virtual Result<std::vector<StoredResource>> doList(const Filter& filter) const = 0;
  virtual Result<StoredResource> doGet(const ResourceKey& key) const = 0;
  virtual Result<Subscription> doWatch(WatchCallback callback, WatchOptions options) = 0;
  virtual Result<StoredResource> doApply(const Resource& r, const WriteOptions& options) = 0;
  virtual Result<void> doRemove(const ResourceKey& key, const WriteOptions& options) = 0;

  static Error notFound(const ResourceKey& key) {
    return Error{ErrorCode::NotFound, fmt::format("{} not found", key.display()), {}};
  }
  static std::optional<Error> checkRevision(const ResourceKey& key, const WriteOptions& options,
                                            uint64_t current) {
    if (!options.ifRevision || *options.ifRevision == current) return std::nullopt;
    std::string message =
        current == 0 ? fmt::format("{} does not exist (expected revision {})", key.display(),
                                   *options.ifRevision)
        : *options.ifRevision == 0
            ? fmt::format("{} already exists (revision {})", key.display(), current)
            : fmt::format("{} is at revision {}, not {}", key.display(), current,
                          *options.ifRevision);
    return Error{ErrorCode::Conflict, std::move(message), "get the object again and retry"};
  }

 private:
  static bool validDns(std::string_view s, size_t max, bool dots) {
    if (s.empty() || s.size() > max) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(s.front()) || !alnum(s.back())) return false;
    return std::ranges::all_of(s,
                               [&](char c) { return alnum(c) || c == '-' || (dots && c == '.'); });
  }

  std::optional<Error> checkWritable() const {
    if (capabilities().writable) return std::nullopt;
    return Error{ErrorCode::Usage, fmt::format("the {} store is read-only", describe()),
                 "write to the source the store reads from, or use a writable backend"};
  }

  static std::optional<Error> checkKey(const ResourceKey& key) {
    if (key.kind.empty() || key.name.empty())
      return Error{ErrorCode::Usage,
                   fmt::format("a resource key needs a kind and a name, got \"{}\"", key.display()),
                   {}};
    return std::nullopt;
  }

  static std::optional<Error> checkObject(const Resource& r) {
    auto bad = [&](std::string message) {
      return Error{
          ErrorCode::InvalidInput, fmt::format("{}: {}", r.displayName(), std::move(message)), {}};
    };
    if (!r.root().isMapping()) return bad("the object is not a map");
    if (r.apiVersion().empty()) return bad("apiVersion is empty");
    if (r.kind().empty()) return bad("kind is empty");
    if (!validName(r.name()))
      return bad(fmt::format(
          "metadata.name \"{}\" is not a valid name (lower-case letters, digits, '-' and '.', "
          "starting and ending with a letter or digit, at most 253 characters)",
          r.name()));
    bool namespaced = r.info() ? r.info()->namespaced : true;
    if (namespaced && !validNamespace(r.namespace_()))
      return bad(fmt::format(
          "namespace \"{}\" is not a valid namespace (lower-case letters, digits and '-', at "
          "most 63 characters)",
          r.namespace_()));
    return std::nullopt;
  }
};

}  // namespace mesh::core

template <>
struct std::hash<mesh::core::ResourceKey> {
  size_t operator()(const mesh::core::ResourceKey& k) const noexcept {
    size_t h = 0;
    for (const std::string* part : {&k.group, &k.kind, &k.namespace_, &k.name})
      h ^= std::hash<std::string>{}(*part) + 0x9e3779b97f4a7c15ULL + (h << 6) +
           (h >> 2);  // boost's hash_combine
    return h;
  }
};
