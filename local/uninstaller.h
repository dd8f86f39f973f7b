// uninstall for the local mesh: stop every process meshctl started in the mesh home (each pid
// file's process, if it is still the one started: SIGTERM, then SIGKILL after the grace
// period) and remove run/, logs/, state.yaml and the lock file. config/ stays unless purging;
// a purge removes the whole mesh home only when state.yaml says meshctl created it, and
// otherwise only what meshctl put in it. Removal never follows a symlink: a link is removed,
// never what it points at. planUninstall() is read-only; uninstallLocal() takes the lock and
// plans again before acting. Blocking; one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "local/mesh_home.h"

namespace mesh::local {

struct UninstallPlan {
  struct Process {
    std::string component;
    pid_t pid = 0;
    bool running = false;  // false: only a stale pid file to remove
  };
  std::vector<Process> processes;            // gateways first, meshd last
  std::vector<std::filesystem::path> remove;  // what exists of run/, logs/, state.yaml, meshctl.lock (config/)
  std::vector<std::filesystem::path> keep;    // config/ without --purge
  bool removeHome = false;                    // --purge, and meshctl created the mesh home
  std::string keepHomeWhy;                    // --purge, but the home stays: why

  bool empty() const { return processes.empty() && remove.empty() && !removeHome; }
};

UninstallPlan planUninstall(const MeshHome& home, bool purge);

class UninstallObserver {
 public:
  virtual ~UninstallObserver() = default;
  virtual void waitingForLock() {}
  virtual void stopping(const UninstallPlan::Process& process) = 0;
  // how: "stopped", "killed after 10s", "was not running"
  virtual void stopped(const UninstallPlan::Process& process, std::string_view how) = 0;
  virtual void removed(const std::filesystem::path& path) = 0;
};

// What was done, for the closing line: the plan acted on (made under the lock).
Result<UninstallPlan> uninstallLocal(const MeshHome& home, bool purge, std::chrono::milliseconds grace,
                                     UninstallObserver& observer);

// Removes path and, for a directory, everything under it, without following symlinks.
Result<void> removeTreeNoFollow(const std::filesystem::path& path);

}  // namespace mesh::local
