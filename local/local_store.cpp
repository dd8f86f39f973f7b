#include "local/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "backends/file/file_io.h"
#include "core/loader.h"
#include "core/yaml/convert.h"

namespace mesh::local {
namespace fs = std::filesystem;
using core::Node;
using core::ResourceKey;

namespace {

constexpr size_t kMaxFileBytes = 128u << 20;  // the loader's own limit

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A name that is safe as one path component: Kubernetes names are DNS labels or subdomains, but
// delete does not validate and unknown kinds have no name rules here.
bool safeComponent(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && !s.starts_with('.') && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos && s.size() < 250;
}

// Makes metadata.namespace explicit, as the file backend writes it: a file under
// <dir>/<namespace>/ must still say its namespace, or it reads back in "default".
const Node* withNamespace(core::Arena& arena, const core::Resource& r) {
  bool namespaced = r.info() ? r.info()->namespaced : true;
  const Node* meta = r.metadata();
  if (!namespaced || r.namespace_().empty() || !meta || !meta->isMapping()) return &r.root();
  if (const Node* ns = meta->get("namespace"); ns && ns->isScalar() && !ns->text().empty()) return &r.root();
  std::vector<core::MapEntry> metaEntries;
  for (const auto& e : meta->entries()) {
    if (e.key->text() == "namespace") continue;
    metaEntries.push_back(e);
    if (e.key->text() == "name")
      metaEntries.push_back({core::NodeFactory::scalar(arena, "namespace", core::ScalarStyle::Plain, {}),
                             core::NodeFactory::scalar(arena, r.namespace_(), core::ScalarStyle::Plain, {})});
  }
  const Node* newMeta = core::NodeFactory::mapping(arena, metaEntries, meta->mark());
  std::vector<core::MapEntry> rootEntries;
  for (const auto& e : r.root().entries())
    rootEntries.push_back(e.key->text() == "metadata" ? core::MapEntry{e.key, newMeta} : e);
  return core::NodeFactory::mapping(arena, rootEntries, r.root().mark());
}

void syncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<void> writeTemporary(const fs::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::Io, fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
  bool ok = true;
  while (ok && !content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) content.remove_prefix(static_cast<size_t>(n));
  }
  int err = errno;
  ok = ok && ::fsync(fd) == 0;
  if (!ok) err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return fail(ErrorCode::Io, fmt::format("{}: cannot write: {}", path.string(), std::strerror(err)));
  }
  return {};
}

// The config directory as meshd's file backend sees it, edited in memory and then committed.
class ConfigDirEdit {
 public:
  explicit ConfigDirEdit(fs::path root) : root_(std::move(root)) {}

  Result<void> load() {
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
      return fail(ErrorCode::Unavailable, fmt::format("{} is not a directory", root_.string()),
                  "install the local mesh first: meshctl install --local");
    core::LoadOptions options;
    for (const std::string& rel : backends::scanConfigFiles(root_, "")) {
      auto text = backends::readWholeFile(root_ / rel, kMaxFileBytes);
      if (!text) {
        broken_.insert(rel);
        continue;
      }
      core::LoadResult loaded = core::loadBuffer((root_ / rel).string(), *text, options);
      // A file that does not load is left alone: meshd keeps its last good objects, and this
      // command neither rewrites it nor reuses its name.
      if (core::hasErrors(loaded.diagnostics)) {
        broken_.insert(rel);
        continue;
      }
      File& f = files_[rel];
      for (auto& r : loaded.resources) {
        ResourceKey key = ResourceKey::of(r);
        f.roots.push_back(&r.root());
        f.keys.push_back(key);
        where_[key].push_back(rel);
        held_.push_back(std::move(r));
      }
    }
    return {};
  }

  Result<StoreChange> put(const core::Resource& r) {
    ResourceKey key = ResourceKey::of(r);
    const Node* root = withNamespace(arena_, r);
    StoreChange change{key, ChangeKind::Created, "", r.file()};
    if (auto it = where_.find(key); it != where_.end() && !it->second.empty()) {
      // The first file in path order is the one meshd uses; that is where the object changes.
      const std::string& rel = it->second.front();
      File& f = files_[rel];
      size_t i = index(f, key);
      change.file = rel;
      if (core::sameValue(*f.roots[i], *root)) {
        change.kind = ChangeKind::Unchanged;
        return change;
      }
      f.roots[i] = root;
      f.dirty = true;
      change.kind = ChangeKind::Configured;
      return change;
    }
    auto rel = newFileFor(key);
    if (!rel) return Failure(rel.error());
    File& f = files_[*rel];
    f.roots.push_back(root);
    f.keys.push_back(key);
    f.dirty = true;
    where_[key].push_back(*rel);
    change.file = *rel;
    return change;
  }

  StoreChange remove(const core::Resource& r) {
    ResourceKey key = ResourceKey::of(r);
    StoreChange change{key, ChangeKind::NotFound, "", r.file()};
    auto it = where_.find(key);
    if (it == where_.end() || it->second.empty()) return change;
    // Out of every file that defines it, so that no other copy takes its place in meshd.
    for (const std::string& rel : it->second) {
      File& f = files_[rel];
      size_t i = index(f, key);
      f.roots.erase(f.roots.begin() + static_cast<std::ptrdiff_t>(i));
      f.keys.erase(f.keys.begin() + static_cast<std::ptrdiff_t>(i));
      f.dirty = true;
    }
    change.kind = ChangeKind::Deleted;
    change.file = it->second.front();
    where_.erase(it);
    return change;
  }

  // Writes every changed file to a temporary, then renames them all into place (and unlinks
  // emptied ones). Nothing is renamed unless every temporary was written.
  Result<void> commit() {
    struct Pending {
      fs::path target;
      fs::path temp;  // empty: unlink target
    };
    std::vector<Pending> pending;
    std::vector<fs::path> createdDirs;
    auto rollback = [&] {
      for (const auto& p : pending)
        if (!p.temp.empty()) ::unlink(p.temp.c_str());
      for (auto it = createdDirs.rbegin(); it != createdDirs.rend(); ++it) ::rmdir(it->c_str());
    };
    static std::atomic<uint64_t> counter{0};
    for (const auto& [rel, f] : files_) {
      if (!f.dirty) continue;
      fs::path target = root_ / rel;
      if (f.roots.empty()) {
        pending.push_back({target, {}});
        continue;
      }
      std::string content = backends::renderFile(rel, f.roots);
      // Read back what is about to be written, so meshd never gets a file that does not load.
      core::LoadResult check = core::loadBuffer(target.string(), content, core::LoadOptions{});
      if (core::hasErrors(check.diagnostics)) {
        rollback();
        return fail(ErrorCode::Internal, fmt::format("{}: the rendered file does not load: {}", target.string(),
                                                     check.diagnostics.front().format()));
      }
      if (auto made = makeParents(target.parent_path(), createdDirs); !made) {
        rollback();
        return made;
      }
      fs::path temp = target.parent_path() /
                      fmt::format(".{}.meshctl-tmp.{}.{}", target.filename().string(), ::getpid(), counter++);
      if (auto written = writeTemporary(temp, content); !written) {
        rollback();
        return written;
      }
      pending.push_back({target, temp});
    }
    std::set<fs::path> dirs;
    for (const auto& p : pending) {
      if (p.temp.empty()) {
        if (::unlink(p.target.c_str()) != 0 && errno != ENOENT)
          return fail(ErrorCode::Io, fmt::format("{}: cannot delete: {}", p.target.string(), std::strerror(errno)));
      } else if (::rename(p.temp.c_str(), p.target.c_str()) != 0) {
        int err = errno;
        // Renames before this one are done and cannot be taken back; the rest are not made.
        for (const auto& q : pending)
          if (!q.temp.empty()) ::unlink(q.temp.c_str());
        return fail(ErrorCode::Io, fmt::format("{}: cannot rename into place: {}", p.target.string(),
                                               std::strerror(err)));
      }
      dirs.insert(p.target.parent_path());
    }
    for (const auto& d : dirs) syncDirectory(d);
    return {};
  }

 private:
  struct File {
    std::vector<const Node*> roots;
    std::vector<ResourceKey> keys;
    bool dirty = false;
  };

  static size_t index(const File& f, const ResourceKey& key) {
    return static_cast<size_t>(std::ranges::find(f.keys, key) - f.keys.begin());
  }

  Result<std::string> newFileFor(const ResourceKey& key) const {
    for (std::string_view part : {std::string_view(key.name), std::string_view(key.kind)})
      if (!safeComponent(part))
        return fail(ErrorCode::InvalidInput, fmt::format("{}: \"{}\" cannot be a file name", key.display(), part),
                    "Kubernetes names are lower-case DNS names");
    if (!key.namespace_.empty() && !safeComponent(key.namespace_))
      return fail(ErrorCode::InvalidInput,
                  fmt::format("{}: namespace \"{}\" cannot be a directory name", key.display(), key.namespace_));
    std::string kind = lower(key.kind);
    std::vector<std::string> names = {fmt::format("{}-{}.yaml", kind, key.name)};
    // Gateway is both networking.istio.io and gateway.networking.k8s.io: the group tells them apart.
    if (!key.group.empty()) names.push_back(fmt::format("{}.{}-{}.yaml", kind, key.group, key.name));
    for (const std::string& name : names) {
      std::string rel = key.namespace_.empty() ? name : key.namespace_ + "/" + name;
      std::error_code ec;
      if (!files_.contains(rel) && !broken_.contains(rel) && !fs::exists(fs::symlink_status(root_ / rel, ec)))
        return rel;
    }
    return fail(ErrorCode::Conflict,
                fmt::format("cannot write {}: {} already exists and holds other objects", key.display(),
                            (root_ / (key.namespace_.empty() ? names.back() : key.namespace_ + "/" + names.back()))
                                .string()),
                "move that file away or name the object differently");
  }

  // Creates the missing directories above a file, remembering them so a rollback removes them.
  Result<void> makeParents(const fs::path& dir, std::vector<fs::path>& created) const {
    std::vector<fs::path> missing;
    std::error_code ec;
    for (fs::path d = dir; !fs::exists(fs::symlink_status(d, ec)) && d != root_; d = d.parent_path())
      missing.push_back(d);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
        return fail(ErrorCode::Io, fmt::format("{}: cannot create directory: {}", it->string(), std::strerror(errno)));
      created.push_back(*it);
    }
    if (!fs::is_directory(dir, ec))
      return fail(ErrorCode::Io, fmt::format("{}: cannot create directory: a file of that name is in the way",
                                             dir.string()),
                  "move that file away");
    return {};
  }

  fs::path root_;
  std::map<std::string, File> files_;
  std::map<ResourceKey, std::vector<std::string>> where_;
  std::set<std::string> broken_;
  std::vector<core::Resource> held_;  // keeps the loaded trees alive
  core::Arena arena_;                 // nodes made by withNamespace
};

}  // namespace

Result<std::vector<StoreChange>> applyToConfigDir(const fs::path& configDir,
                                                  const std::vector<core::Resource>& resources) {
  ConfigDirEdit edit(configDir);
  if (auto ok = edit.load(); !ok) return Failure(ok.error());
  std::vector<StoreChange> changes;
  for (const auto& r : resources) {
    auto change = edit.put(r);
    if (!change) return Failure(change.error());
    changes.push_back(std::move(*change));
  }
  if (auto ok = edit.commit(); !ok) return Failure(ok.error());
  return changes;
}

Result<std::vector<StoreChange>> deleteFromConfigDir(const fs::path& configDir,
                                                     const std::vector<core::Resource>& resources) {
  ConfigDirEdit edit(configDir);
  if (auto ok = edit.load(); !ok) return Failure(ok.error());
  std::vector<StoreChange> changes;
  for (const auto& r : resources) changes.push_back(edit.remove(r));
  if (auto ok = edit.commit(); !ok) return Failure(ok.error());
  return changes;
}

}  // namespace mesh::local
