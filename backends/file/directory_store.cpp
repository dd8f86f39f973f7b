#include "backends/file/directory_store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "backends/file/file_io.h"
#include "core/yaml/convert.h"

namespace mesh::backends {
namespace fs = std::filesystem;
using core::Diagnostic;
using core::EventType;
using core::Node;
using core::ResourceKey;
using core::Severity;
using core::StoredResource;

namespace {

// Makes metadata.namespace explicit: a file under <dir>/<namespace>/ must say which namespace
// it is in, or it would read back in the default namespace.
const Node* withNamespace(core::Arena& arena, const core::Resource& r) {
  bool namespaced = r.info() ? r.info()->namespaced : true;
  const Node* meta = r.metadata();
  if (!namespaced || r.namespace_().empty() || !meta || !meta->isMapping()) return &r.root();
  const Node* ns = meta->get("namespace");
  if (ns && ns->isScalar() && !ns->text().empty()) return &r.root();
  std::vector<core::MapEntry> metaEntries;
  for (const auto& e : meta->entries()) {
    if (e.key->text() == "namespace") continue;
    metaEntries.push_back(e);
    if (e.key->text() == "name")
      metaEntries.push_back(
          {core::NodeFactory::scalar(arena, "namespace", core::ScalarStyle::Plain, {}),
           core::NodeFactory::scalar(arena, r.namespace_(), core::ScalarStyle::Plain, {})});
  }
  const Node* newMeta = core::NodeFactory::mapping(arena, metaEntries, meta->mark());
  std::vector<core::MapEntry> rootEntries;
  for (const auto& e : r.root().entries())
    rootEntries.push_back(e.key->text() == "metadata" ? core::MapEntry{e.key, newMeta} : e);
  return core::NodeFactory::mapping(arena, rootEntries, r.root().mark());
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Diagnostic problem(Severity severity, std::string file, std::string message, core::Mark at = {},
                   std::string resource = {}) {
  return Diagnostic{severity, std::move(file),   at.line, at.column, std::move(resource),
                    {},       std::move(message), {}, {}};
}

std::string objectName(const core::Resource& r) {
  return r.namespace_().empty() ? fmt::format("{} {}", r.kind(), r.name())
                                : fmt::format("{} {}/{}", r.kind(), r.namespace_(), r.name());
}

// Runs work(i) for i in [0, n), on several threads when there is enough to share.
template <class Work>
void parallelFor(size_t n, Work work) {
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), n / 16);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) work(i);
    });
  for (auto& t : pool) t.join();
}

Error fileHasErrors(const ResourceKey& key, const std::string& file,
                    const core::Diagnostics& diags) {
  std::string first;
  for (const auto& d : diags)
    if (d.severity == Severity::Error) {
      first = d.format();
      break;
    }
  return Error{ErrorCode::Conflict,
               fmt::format("cannot change {}: {} does not load ({})", key.display(), file, first),
               "fix or delete that file first"};
}

}  // namespace

Result<std::unique_ptr<DirectoryStore>> DirectoryStore::open(const fs::path& dir, Options options) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec) return fail(ErrorCode::Io, fmt::format("{}: {}", dir.string(), ec.message()));
  if (!root.has_filename()) root = root.parent_path();  // "/etc/mesh/" → "/etc/mesh"
  if (!fs::is_directory(root, ec)) {
    if (!options.createIfMissing)
      return fail(ErrorCode::NotFound, fmt::format("{}: no such directory", root.string()));
    fs::create_directories(root, ec);
    if (ec)
      return fail(ErrorCode::Io,
                  fmt::format("{}: cannot create directory: {}", root.string(), ec.message()));
  }
  std::unique_ptr<DirectoryStore> store(new DirectoryStore(root, options));
  if (options.watch) {
    // Watches first, then the initial read: a change racing with it is read again later.
    auto watcher =
        DirWatcher::start(root, {.debounce = options.debounce, .maxDelay = options.maxDelay},
                          [s = store.get()](const DirWatcher::Change& c) { s->reload(c); });
    if (!watcher) return core::failWith(watcher.error());
    store->watcher_ = std::move(*watcher);
  }
  DirWatcher::Change everything;
  everything.rescan = true;
  store->reload(everything);
  return store;
}

DirectoryStore::DirectoryStore(fs::path root, Options options)
    : root_(std::move(root)),
      options_(std::move(options)),
      load_{.defaultNamespace = options_.defaultNamespace, .limits = options_.limits} {}

DirectoryStore::~DirectoryStore() {
  watcher_.reset();  // no reload() may run once members start going
}

const core::LoadOptions& DirectoryStore::loadOptions() const { return load_; }

uint64_t DirectoryStore::revision() const {
  std::lock_guard lock(stateMu_);
  return revision_;
}

core::Diagnostics DirectoryStore::diagnostics() const {
  std::lock_guard lock(stateMu_);
  core::Diagnostics out;
  if (rootGone_)
    out.push_back(problem(Severity::Error, root_.string(),
                          "the directory was deleted or moved away; keeping the objects last read "
                          "from it until it is back"));
  for (const auto& [rel, f] : files_)
    out.insert(out.end(), f.diagnostics.begin(), f.diagnostics.end());
  out.insert(out.end(), duplicates_.begin(), duplicates_.end());
  return out;
}

std::optional<DirectoryStore::FileState> DirectoryStore::readFile(const std::string& rel) const {
  std::string path = fullPath(rel).string();
  auto content = readWholeFile(path, options_.limits.maxFileBytes);
  if (!content) {
    if (content.error().code == ErrorCode::NotFound) return std::nullopt;
    return FileState{{}, {problem(Severity::Error, path, content.error().message)}, false};
  }
  core::LoadResult loaded = core::loadBuffer(path, *content, loadOptions());
  if (core::hasErrors(loaded.diagnostics))
    return FileState{{}, std::move(loaded.diagnostics), false};
  return FileState{std::move(loaded.resources), std::move(loaded.diagnostics), true};
}

void DirectoryStore::reload(const DirWatcher::Change& change) {
  std::lock_guard io(ioMu_);
  std::set<std::string> files;
  // With the root gone every file reads as absent; keep them (last good) rather than delete.
  if (change.rescan && !change.rootGone) {
    for (const auto& [rel, f] : files_) files.insert(rel);
    for (auto& rel : scanConfigFiles(root_, "")) files.insert(std::move(rel));
  }
  for (const std::string& path : change.paths) {
    if (isHiddenPath(path)) continue;
    for (auto it = files_.lower_bound(path); it != files_.end() && it->first.starts_with(path);
         ++it)
      if (isUnder(it->first, path)) files.insert(it->first);
    for (auto& rel : scanConfigFiles(root_, path)) files.insert(std::move(rel));
  }
  std::vector<std::string> order(files.begin(), files.end());
  std::vector<std::optional<FileState>> fresh(order.size());
  parallelFor(order.size(), [&](size_t i) { fresh[i] = readFile(order[i]); });

  std::lock_guard state(stateMu_);
  if (change.rootGone)
    rootGone_ = true;
  else if (change.rescan)
    rootGone_ = false;
  for (size_t i = 0; i < order.size(); ++i) install(order[i], std::move(fresh[i]));
  reconcile();
}

void DirectoryStore::install(const std::string& rel, std::optional<FileState> fresh) {
  if (!fresh) {
    files_.erase(rel);
    return;
  }
  if (fresh->valid) {
    files_.insert_or_assign(rel, std::move(*fresh));
    return;
  }
  FileState& slot = files_[rel];  // a new file that never loaded keeps nothing
  slot.valid = false;
  slot.diagnostics = std::move(fresh->diagnostics);
  if (!slot.resources.empty())
    slot.diagnostics.push_back(problem(
        Severity::Warning, fullPath(rel).string(),
        fmt::format("keeping the {} object(s) last loaded from this file until it loads without "
                    "errors",
                    slot.resources.size())));
}

void DirectoryStore::reconcile() {
  std::map<ResourceKey, Entry> next;
  core::Diagnostics duplicates;
  for (const auto& [rel, f] : files_) {
    for (const core::Resource& r : f.resources) {
      auto [it, inserted] = next.try_emplace(ResourceKey::of(r), Entry{StoredResource{r, 0}, rel});
      if (inserted) continue;
      const core::Resource& first = it->second.stored.resource;
      duplicates.push_back(
          problem(Severity::Error, r.file(),
                  fmt::format("also defined at {}:{}; the definition first in path order is used",
                              first.file(), first.mark().line),
                  r.mark(), objectName(r)));
    }
  }
  // Walk old and new in key order: events come in key order with increasing revisions.
  std::vector<core::WatchEvent> events;
  auto o = objects_.begin();
  auto n = next.begin();
  while (o != objects_.end() || n != next.end()) {
    if (n == next.end() || (o != objects_.end() && o->first < n->first)) {
      events.push_back(
          {EventType::Deleted, StoredResource{o->second.stored.resource, ++revision_}});
      ++o;
    } else if (o == objects_.end() || n->first < o->first) {
      n->second.stored.revision = ++revision_;
      events.push_back({EventType::Added, n->second.stored});
      ++n;
    } else {
      bool changed =
          o->second.file != n->second.file ||
          !core::sameValue(o->second.stored.resource.root(), n->second.stored.resource.root());
      n->second.stored.revision = changed ? ++revision_ : o->second.stored.revision;
      if (changed) events.push_back({EventType::Updated, n->second.stored});
      ++o;
      ++n;
    }
  }
  objects_ = std::move(next);
  duplicates_ = std::move(duplicates);
  if (!events.empty()) hub_.publish(events);
}

Result<std::vector<StoredResource>> DirectoryStore::doList(const core::Filter& filter) const {
  std::lock_guard lock(stateMu_);
  std::vector<StoredResource> out;
  for (const auto& [key, e] : objects_)
    if (filter.matches(key)) out.push_back(e.stored);
  return out;
}

Result<StoredResource> DirectoryStore::doGet(const ResourceKey& key) const {
  std::lock_guard lock(stateMu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return core::failWith(notFound(key));
  return it->second.stored;
}

Result<core::Subscription> DirectoryStore::doWatch(core::WatchCallback callback,
                                                   core::WatchOptions options) {
  std::lock_guard lock(stateMu_);
  std::vector<core::WatchEvent> initial;
  if (options.replay)
    for (const auto& [key, e] : objects_)
      if (options.filter.matches(key)) initial.push_back({EventType::Added, e.stored});
  return hub_.subscribe(std::move(callback), std::move(options.filter), std::move(initial));
}

Result<std::string> DirectoryStore::newFileFor(const ResourceKey& key) const {
  std::string kind = lower(key.kind);
  std::vector<std::string> names = {fmt::format("{}-{}.yaml", kind, key.name)};
  // Gateway is both networking.istio.io and gateway.networking.k8s.io: the group tells them apart.
  if (!key.group.empty()) names.push_back(fmt::format("{}.{}-{}.yaml", kind, key.group, key.name));
  for (const std::string& name : names) {
    std::string rel = key.namespace_.empty() ? name : key.namespace_ + "/" + name;
    std::error_code ec;
    if (!files_.contains(rel) && !fs::exists(fs::symlink_status(fullPath(rel), ec))) return rel;
  }
  return fail(
      ErrorCode::Conflict,
      fmt::format(
          "cannot write {}: {} already exists and holds other objects", key.display(),
          fullPath(key.namespace_.empty() ? names.back() : key.namespace_ + "/" + names.back())
              .string()),
      "move that file away or name the object differently");
}

Result<void> DirectoryStore::writeObjects(const std::string& rel,
                                          const std::vector<const Node*>& roots,
                                          std::optional<FileState>& parsed) {
  fs::path path = fullPath(rel);
  if (roots.empty()) {
    parsed.reset();
    return removeFileDurably(path);
  }
  std::string content = renderFile(rel, roots);
  // Read back what is about to be written, so the store never holds what the file would not.
  parsed = FileState{};
  core::LoadResult loaded = core::loadBuffer(path.string(), content, loadOptions());
  if (core::hasErrors(loaded.diagnostics))
    return fail(ErrorCode::Internal,
                fmt::format("{}: the rendered file does not load: {}", path.string(),
                            loaded.diagnostics.front().format()));
  parsed->resources = std::move(loaded.resources);
  parsed->diagnostics = std::move(loaded.diagnostics);
  return writeFileAtomically(path, content);
}

Result<StoredResource> DirectoryStore::doApply(const core::Resource& r,
                                               const core::WriteOptions& options) {
  ResourceKey key = ResourceKey::of(r);
  std::lock_guard io(ioMu_);
  std::string rel;
  {
    std::lock_guard state(stateMu_);
    auto it = objects_.find(key);
    if (auto bad =
            checkRevision(key, options, it == objects_.end() ? 0 : it->second.stored.revision))
      return core::failWith(*bad);
    if (it != objects_.end()) {
      if (core::sameValue(it->second.stored.resource.root(), r.root())) return it->second.stored;
      rel = it->second.file;
    }
  }
  if (rel.empty()) {
    auto fresh = newFileFor(key);
    if (!fresh) return core::failWith(fresh.error());
    rel = std::move(*fresh);
  }
  // Start from the file as it is now, not as last read: a change still in the watcher's
  // debounce window must not be overwritten.
  std::optional<FileState> base = readFile(rel);
  if (base && !base->valid)
    return core::failWith(fileHasErrors(key, fullPath(rel).string(), base->diagnostics));
  core::Arena scratch;
  const Node* root = withNamespace(scratch, r);
  std::vector<const Node*> roots;
  bool placed = false;
  static const std::vector<core::Resource> kNone;
  for (const core::Resource& other : base ? base->resources : kNone) {
    if (ResourceKey::of(other) != key)
      roots.push_back(&other.root());
    else if (!std::exchange(placed, true))
      roots.push_back(root);
  }
  if (!placed) roots.push_back(root);
  std::optional<FileState> parsed;
  if (auto written = writeObjects(rel, roots, parsed); !written)
    return core::failWith(written.error());

  std::lock_guard state(stateMu_);
  install(rel, std::move(parsed));
  reconcile();
  auto it = objects_.find(key);
  if (it == objects_.end())
    return fail(ErrorCode::Internal,
                fmt::format("{} was written to {} but is not there", key.display(), rel));
  return it->second.stored;
}

Result<void> DirectoryStore::doRemove(const ResourceKey& key, const core::WriteOptions& options) {
  std::lock_guard io(ioMu_);
  std::vector<std::string> rels;  // every file defining the key, so that it is really gone
  {
    std::lock_guard state(stateMu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return core::failWith(notFound(key));
    if (auto bad = checkRevision(key, options, it->second.stored.revision))
      return core::failWith(*bad);
    for (const auto& [rel, f] : files_)
      if (std::ranges::any_of(f.resources,
                              [&](const core::Resource& r) { return ResourceKey::of(r) == key; }))
        rels.push_back(rel);
  }
  // Read them all before writing any, so a file with errors changes nothing.
  std::vector<std::optional<FileState>> bases;
  for (const std::string& rel : rels) {
    bases.push_back(readFile(rel));
    if (bases.back() && !bases.back()->valid)
      return core::failWith(fileHasErrors(key, fullPath(rel).string(), bases.back()->diagnostics));
  }
  Result<void> result;
  std::vector<std::pair<std::string, std::optional<FileState>>> done;
  for (size_t i = 0; i < rels.size() && result; ++i) {
    if (!bases[i]) {
      done.emplace_back(rels[i], std::nullopt);
      continue;
    }
    std::vector<const Node*> roots;
    for (const core::Resource& r : bases[i]->resources)
      if (ResourceKey::of(r) != key) roots.push_back(&r.root());
    if (roots.size() == bases[i]->resources.size()) {  // already gone from this file
      done.emplace_back(rels[i], std::move(bases[i]));
      continue;
    }
    std::optional<FileState> parsed;
    result = writeObjects(rels[i], roots, parsed);
    if (result) done.emplace_back(rels[i], std::move(parsed));
  }
  std::lock_guard state(stateMu_);
  for (auto& [rel, fresh] : done) install(rel, std::move(fresh));
  reconcile();
  return result;
}

}  // namespace mesh::backends
