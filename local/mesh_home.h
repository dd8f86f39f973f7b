// The mesh home: the directory a local mesh lives in ($MESH_HOME, default ~/.meshctl).
//
//   config/               the file backend's directory: meshd watches it, `meshctl apply` writes it
//   ca/                   meshd's CA: its root (ca-cert.pem, ca-key.pem) and token; the gateways
//                         verify the CA by that root. Kept by uninstall like config/, purged with it
//   run/<component>.pid   the pid of each running component
//   run/<component>.cmdline  the command line it was started with (NUL-separated, as
//                         /proc/PID/cmdline), so a recycled pid is never taken for it
//   logs/<component>.log  its stdout and stderr
//   state.yaml            what install did: profile, IstioOperator, ports, binaries, start times
//   meshctl.lock          flock'ed by every command that changes the home, so two never race
//   .meshctl-created      present when meshctl created the home itself: only then may
//                         `uninstall --purge` remove the whole directory (it outlives a plain
//                         uninstall, which keeps config/)
//
// MeshHome only names paths and creates directories; HomeLock is the lock. Any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "local/environment.h"

namespace mesh::local {

class MeshHome {
 public:
  explicit MeshHome(std::filesystem::path root) : root_(std::move(root)) {}
  // $MESH_HOME (made absolute against the current directory), else ~/.meshctl.
  static Result<MeshHome> resolve(const Environment& env);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path configDir() const { return root_ / "config"; }
  std::filesystem::path caDir() const { return root_ / "ca"; }
  std::filesystem::path runDir() const { return root_ / "run"; }
  std::filesystem::path logsDir() const { return root_ / "logs"; }
  std::filesystem::path statePath() const { return root_ / "state.yaml"; }
  std::filesystem::path lockPath() const { return root_ / "meshctl.lock"; }
  std::filesystem::path createdMarker() const { return root_ / ".meshctl-created"; }
  std::filesystem::path pidFile(std::string_view component) const;
  std::filesystem::path cmdlineFile(std::string_view component) const;
  std::filesystem::path logFile(std::string_view component) const;

  // The root is a directory (or a symlink to one).
  bool exists() const;
  // Creates the root, config/, run/ and logs/ where missing. True when the root itself was
  // created now (then .meshctl-created marks it, so `uninstall --purge` may remove it later).
  Result<bool> create() const;

 private:
  std::filesystem::path root_;
};

// An exclusive flock on meshctl.lock, held for the object's life.
class HomeLock {
 public:
  // Waits up to `wait` for another meshctl to finish; `onWait` runs once if it has to wait.
  // The home's root must exist.
  static Result<HomeLock> acquire(const MeshHome& home, std::chrono::milliseconds wait,
                                  const std::function<void()>& onWait = {});
  HomeLock(HomeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  HomeLock& operator=(HomeLock&&) = delete;
  HomeLock(const HomeLock&) = delete;
  ~HomeLock();

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mesh::local
