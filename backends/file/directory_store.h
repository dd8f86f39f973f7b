// DirectoryStore: the file backend (local mode's default). Reads every .yaml/.yml/.json under a
// directory tree, follows changes with inotify in debounced batches, and writes objects back
// as files. Thread-safe; a watcher thread reloads files and the store's dispatcher thread runs
// watch callbacks.
//
// Rules, in the spirit of a control plane keeping its last good config:
// - A file loads all or nothing. A file with any error keeps the objects it last loaded cleanly
//   (none if it never did) and reports the error in diagnostics(); the next write retries it.
//   A file that becomes empty is an error too: delete the file to delete its objects.
// - Hidden paths (a component starting with '.') and other extensions are ignored: editors'
//   swap, lock and backup files, our temporary files.
// - Events come from diffing the objects before and after each batch: an object whose meaning
//   (core::sameValue) or file changed is Updated, so one moving between files within a batch
//   (a rename, say) is one Updated, not Deleted+Added. An edit that changes only formatting or
//   comments emits nothing and keeps the revision; get()/list() return the re-read object,
//   whose marks are current.
// - The same key in two files: the first file in path order wins; the other is a diagnostic.
// - apply() writes an existing object back into the file it came from (rewriting the other
//   objects of that file through core::toYaml, which drops comments) and a new one to
//   <dir>/<namespace>/<kind>-<name>.yaml (<dir>/<kind>-<name>.yaml when cluster-scoped;
//   <kind>.<group>-<name>.yaml when the name is taken). Writes are atomic and fsync'ed.
// - Revisions count from 1 at open(); they are not persisted.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/common/watch_hub.h"
#include "backends/file/dir_watcher.h"
#include "core/diagnostic.h"
#include "core/loader.h"
#include "core/store/config_store.h"

namespace mesh::backends {

struct DirectoryStoreOptions {
  bool readOnly = false;
  bool watch = true;  // false: read once at open(); later changes only through this store
  bool createIfMissing = false;
  std::chrono::milliseconds debounce{75};
  std::chrono::milliseconds maxDelay{1000};
  std::string defaultNamespace = "default";  // for namespaced objects that name none
  core::ParseLimits limits;
};

class DirectoryStore final : public core::ConfigStore {
 public:
  using Options = DirectoryStoreOptions;

  // Loads the tree (errors in files become diagnostics, not a failure). Fails with NotFound
  // when `dir` is not a directory, Io when it cannot be watched.
  static Result<std::unique_ptr<DirectoryStore>> open(const std::filesystem::path& dir,
                                                      Options options = {});
  ~DirectoryStore() override;

  const std::filesystem::path& root() const { return root_; }
  // Current problems: files that do not load (each with a note when older objects are kept),
  // duplicate keys, a vanished root directory.
  core::Diagnostics diagnostics() const;

  std::string describe() const override { return "directory " + root_.string(); }
  core::Capabilities capabilities() const override { return {.writable = !options_.readOnly}; }
  uint64_t revision() const override;

 protected:
  Result<std::vector<core::StoredResource>> doList(const core::Filter& filter) const override;
  Result<core::StoredResource> doGet(const core::ResourceKey& key) const override;
  Result<core::Subscription> doWatch(core::WatchCallback callback,
                                     core::WatchOptions options) override;
  Result<core::StoredResource> doApply(const core::Resource& r,
                                       const core::WriteOptions& options) override;
  Result<void> doRemove(const core::ResourceKey& key, const core::WriteOptions& options) override;

 private:
  // One file as last read. `resources` are its last good objects; `diagnostics` its problems.
  struct FileState {
    std::vector<core::Resource> resources;
    core::Diagnostics diagnostics;
    bool valid = true;
  };
  struct Entry {
    core::StoredResource stored;
    std::string file;  // relative path of the file it comes from
  };

  DirectoryStore(std::filesystem::path root, Options options);
  const core::LoadOptions& loadOptions() const;
  std::filesystem::path fullPath(const std::string& rel) const { return root_ / rel; }
  // Reads and parses one file now; nullopt when it does not exist.
  std::optional<FileState> readFile(const std::string& rel) const;
  // The watcher's batches (and open()): re-reads the paths, then reconciles.
  void reload(const DirWatcher::Change& change);
  // Sets `rel`'s state from a fresh read (nullopt: gone), keeping last good objects on errors.
  void install(const std::string& rel, std::optional<FileState> fresh);
  // Recomputes the visible objects from files_ and publishes the difference as events.
  void reconcile();
  Result<std::string> newFileFor(const core::ResourceKey& key) const;
  Result<void> writeObjects(const std::string& rel, const std::vector<const core::Node*>& roots,
                            std::optional<FileState>& parsed);

  const std::filesystem::path root_;
  const Options options_;
  core::LoadOptions load_;
  // Held by whoever reads or writes files and then changes files_: apply(), remove() and the
  // watcher, so a reload never interleaves with a write. Taken before stateMu_.
  std::mutex ioMu_;
  // files_, objects_, revision_, rootGone_, and the order of hub_.publish(). files_ is written
  // with both mutexes held, so holding either is enough to read it.
  mutable std::mutex stateMu_;
  std::map<std::string, FileState> files_;
  std::map<core::ResourceKey, Entry> objects_;
  core::Diagnostics duplicates_;
  bool rootGone_ = false;
  uint64_t revision_ = 0;
  WatchHub hub_;
  std::unique_ptr<DirWatcher> watcher_;  // destroyed first (explicitly, in the destructor)
};

}  // namespace mesh::backends
