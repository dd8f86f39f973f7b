#include "backends/file/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/yaml/convert.h"

namespace mesh::backends {
namespace fs = std::filesystem;
namespace {

auto ioFailure(const fs::path& path, std::string_view what, int err) {
  return fail(ErrorCode::Io, fmt::format("{}: {}: {}", path.string(), what, std::strerror(err)));
}

// fsync of a directory makes a rename or unlink in it durable.
void syncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool writeAll(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    content.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string joinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

template <class Visit>
void walk(const fs::path& root, const std::string& rel, Visit visit) {
  std::error_code ec;
  fs::path start = rel.empty() ? root : root / rel;
  for (fs::recursive_directory_iterator
           it(start, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with('.')) {
      it.disable_recursion_pending();
      continue;
    }
    visit(*it, joinRel(rel, it->path().lexically_relative(start).generic_string()));
  }
}

}  // namespace

bool isConfigFileName(std::string_view name) {
  if (name.starts_with('.')) return false;
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

bool isHiddenPath(std::string_view rel) {
  for (size_t start = 0; start <= rel.size();) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    if (end > start && rel[start] == '.') return true;
    start = end + 1;
  }
  return false;
}

bool isUnder(std::string_view rel, std::string_view dir) {
  if (dir.empty()) return true;
  return rel.starts_with(dir) && (rel.size() == dir.size() || rel[dir.size()] == '/');
}

std::vector<std::string> scanConfigFiles(const fs::path& root, const std::string& rel) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path start = rel.empty() ? root : root / rel;
  auto status = fs::status(start, ec);
  if (ec) return out;
  if (fs::is_regular_file(status)) {
    if (isConfigFileName(start.filename().string())) out.push_back(rel);
    return out;
  }
  if (!fs::is_directory(status)) return out;
  walk(root, rel, [&](const fs::directory_entry& e, std::string entryRel) {
    std::error_code fec;
    if (e.is_regular_file(fec) && isConfigFileName(e.path().filename().string()))
      out.push_back(std::move(entryRel));
  });
  std::ranges::sort(out);
  return out;
}

std::vector<std::string> scanDirectories(const fs::path& root, const std::string& rel) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path start = rel.empty() ? root : root / rel;
  // The root may be a symlink (/etc/mesh -> /srv/mesh); links below it are not followed.
  if (!fs::is_directory(rel.empty() ? fs::status(start, ec) : fs::symlink_status(start, ec)))
    return out;
  out.push_back(rel);
  walk(root, rel, [&](const fs::directory_entry& e, std::string entryRel) {
    std::error_code dec;
    if (e.is_directory(dec) && !e.is_symlink(dec)) out.push_back(std::move(entryRel));
  });
  return out;
}

Result<std::string> readWholeFile(const fs::path& path, size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR)
      return fail(ErrorCode::NotFound, fmt::format("{}: no such file", path.string()));
    return ioFailure(path, "cannot open", err);
  }
  std::string content;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    if (static_cast<size_t>(st.st_size) > maxBytes) {
      ::close(fd);
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("file of {} bytes is over the limit of {} bytes", st.st_size, maxBytes));
    }
    content.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ioFailure(path, "cannot read", err);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > maxBytes) {
      ::close(fd);
      return fail(ErrorCode::InvalidInput,
                  fmt::format("file is over the limit of {} bytes", maxBytes));
    }
  }
  ::close(fd);
  return content;
}

Result<void> writeFileAtomically(const fs::path& path, std::string_view content) {
  static std::atomic<uint64_t> counter{0};
  fs::path dir = path.parent_path();
  std::error_code ec;
  if (fs::create_directories(dir, ec))
    syncDirectory(dir.parent_path());  // the new entry survives a crash
  if (ec)
    return fail(ErrorCode::Io,
                fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  // Hidden, so the directory watcher never reads a half-written file.
  fs::path tmp =
      dir / fmt::format(".{}.tmp.{}.{}", path.filename().string(), ::getpid(), counter++);
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ioFailure(tmp, "cannot create", errno);
  ::fchmod(fd, mode);  // not narrowed by the umask: the replacement keeps the original's mode
  bool ok = writeAll(fd, content) && ::fsync(fd) == 0;
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    return ioFailure(path, "cannot write", err);
  }
  syncDirectory(dir);
  return {};
}

Result<void> removeFileDurably(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return ioFailure(path, "cannot delete", errno);
  syncDirectory(path.parent_path());
  return {};
}

std::string renderFile(std::string_view rel, const std::vector<const core::Node*>& roots) {
  if (rel.ends_with(".json")) {
    if (roots.size() == 1) return core::toJson(*roots.front()).dump(2) + "\n";
    nlohmann::json list = {
        {"apiVersion", "v1"}, {"kind", "List"}, {"items", nlohmann::json::array()}};
    for (const core::Node* r : roots) list["items"].push_back(core::toJson(*r));
    return list.dump(2) + "\n";
  }
  std::string out;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (i > 0) out += "---\n";
    out += core::toYaml(*roots[i]);
  }
  return out;
}

}  // namespace mesh::backends
