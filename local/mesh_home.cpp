#include "local/mesh_home.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "backends/file/file_io.h"

namespace mesh::local {
namespace fs = std::filesystem;

Result<MeshHome> MeshHome::resolve(const Environment& env) {
  if (auto set = env.get("MESH_HOME"); set && !set->empty()) {
    std::error_code ec;
    fs::path root = fs::absolute(*set, ec);
    if (ec) return fail(ErrorCode::Usage, fmt::format("MESH_HOME={}: {}", *set, ec.message()));
    return MeshHome(root.lexically_normal());
  }
  if (env.homeDir.empty())
    return fail(ErrorCode::Usage, "cannot find the mesh home: neither MESH_HOME nor HOME is set",
                "set MESH_HOME to a directory for the local mesh, e.g. MESH_HOME=$PWD/.meshctl");
  return MeshHome((env.homeDir / ".meshctl").lexically_normal());
}

fs::path MeshHome::pidFile(std::string_view component) const {
  return runDir() / fmt::format("{}.pid", component);
}

fs::path MeshHome::cmdlineFile(std::string_view component) const {
  return runDir() / fmt::format("{}.cmdline", component);
}

fs::path MeshHome::logFile(std::string_view component) const {
  return logsDir() / fmt::format("{}.log", component);
}

bool MeshHome::exists() const {
  std::error_code ec;
  return fs::is_directory(root_, ec);
}

Result<bool> MeshHome::create() const {
  std::error_code ec;
  bool created = fs::create_directories(root_, ec);
  if (ec)
    return fail(ErrorCode::Io, fmt::format("cannot create the mesh home {}: {}", root_.string(), ec.message()),
                "set MESH_HOME to a directory you can write");
  if (!fs::is_directory(root_, ec))
    return fail(ErrorCode::Io, fmt::format("the mesh home {} is not a directory", root_.string()),
                "set MESH_HOME to a directory, or move that file away");
  if (created) {
    if (auto marked = backends::writeFileAtomically(createdMarker(), "created by meshctl install\n"); !marked)
      return Failure(marked.error());
  }
  for (const fs::path& dir : {configDir(), runDir(), logsDir()}) {
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir, ec))
      return fail(ErrorCode::Io, fmt::format("cannot create {}: {}", dir.string(),
                                             ec ? ec.message() : std::string("a file is in the way")));
  }
  return created;
}

Result<HomeLock> HomeLock::acquire(const MeshHome& home, std::chrono::milliseconds wait,
                                   const std::function<void()>& onWait) {
  const fs::path path = home.lockPath();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool waited = false;
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
      return fail(ErrorCode::Io, fmt::format("{}: cannot open the lock file: {}", path.string(), std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      // Uninstall deletes the lock file while holding it: a lock taken on a file that is no
      // longer at the path guards nothing, so take the new one instead.
      struct stat held {}, now {};
      if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
          held.st_dev == now.st_dev)
        return HomeLock(fd);
      ::close(fd);
      continue;
    }
    int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK)
      return fail(ErrorCode::Io, fmt::format("{}: cannot lock: {}", path.string(), std::strerror(err)));
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorCode::Unavailable,
                  fmt::format("another meshctl command is changing the mesh home {}", home.root().string()),
                  "wait for it to finish and run this again");
    if (!std::exchange(waited, true) && onWait) onWait();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

HomeLock::~HomeLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace mesh::local
