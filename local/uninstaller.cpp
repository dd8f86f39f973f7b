#include "local/uninstaller.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "local/install_state.h"
#include "local/process_supervisor.h"

namespace mesh::local {
namespace fs = std::filesystem;
namespace {

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

}  // namespace

Result<void> removeTreeNoFollow(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return {};
  if (fs::is_directory(st)) {  // a real directory: symlink_status never reports a link as one
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) children.push_back(it->path());
    if (ec) return fail(ErrorCode::Io, fmt::format("{}: cannot list: {}", path.string(), ec.message()));
    for (const auto& child : children)
      if (auto ok = removeTreeNoFollow(child); !ok) return ok;
  }
  if (!fs::remove(path, ec) && ec)
    return fail(ErrorCode::Io, fmt::format("{}: cannot remove: {}", path.string(), ec.message()));
  return {};
}

UninstallPlan planUninstall(const MeshHome& home, bool purge) {
  UninstallPlan plan;
  if (!home.exists()) return plan;
  ProcessSupervisor supervisor(home);
  for (const std::string& name : supervisor.recorded()) {
    auto status = supervisor.status(name);
    plan.processes.push_back(
        {name, status.record.pid, status.state == ProcessSupervisor::State::Running});
  }
  // Gateways before the control plane they get config from, as istioctl uninstall prunes.
  std::ranges::stable_partition(plan.processes, [](const auto& p) { return !p.component.starts_with("meshd"); });

  for (const fs::path& p : {home.runDir(), home.logsDir(), home.statePath()})
    if (present(p)) plan.remove.push_back(p);
  if (!purge) {
    if (present(home.configDir())) plan.keep.push_back(home.configDir());
    // The CA's root outlives an uninstall, so a reinstall keeps the identities workloads trust.
    if (present(home.caDir())) plan.keep.push_back(home.caDir());
    // The lock file alone is not an install: it goes only along with something else.
    if (!plan.empty() && present(home.lockPath())) plan.remove.push_back(home.lockPath());
    return plan;
  }
  auto state = readState(home.statePath());
  bool created = (state && state->createdHome) || present(home.createdMarker());
  std::error_code ec;
  bool isLink = fs::is_symlink(fs::symlink_status(home.root(), ec));
  if (created && !isLink) {
    plan.removeHome = true;
    return plan;
  }
  if (present(home.configDir())) plan.remove.push_back(home.configDir());
  if (present(home.caDir())) plan.remove.push_back(home.caDir());
  if (present(home.lockPath())) plan.remove.push_back(home.lockPath());
  if (!plan.empty()) plan.keepHomeWhy = isLink ? "it is a symbolic link" : "meshctl did not create it";
  return plan;
}

Result<UninstallPlan> uninstallLocal(const MeshHome& home, bool purge, std::chrono::milliseconds grace,
                                     UninstallObserver& observer) {
  if (!home.exists()) return UninstallPlan{};
  auto lock = HomeLock::acquire(home, std::chrono::seconds(120), [&] { observer.waitingForLock(); });
  if (!lock) return Failure(lock.error());
  UninstallPlan plan = planUninstall(home, purge);
  if (plan.empty()) return plan;

  ProcessSupervisor supervisor(home);
  for (const auto& p : plan.processes) {
    if (p.running) observer.stopping(p);
    auto outcome = supervisor.stop(p.component, grace);
    if (!outcome) return Failure(outcome.error());
    switch (*outcome) {
      case ProcessSupervisor::StopOutcome::Terminated: observer.stopped(p, "stopped"); break;
      case ProcessSupervisor::StopOutcome::Killed:
        observer.stopped(p, fmt::format("killed (it did not exit within {}s of SIGTERM)",
                                        std::chrono::duration_cast<std::chrono::seconds>(grace).count()));
        break;
      case ProcessSupervisor::StopOutcome::NotRunning: observer.stopped(p, "was not running"); break;
    }
  }
  if (plan.removeHome) {
    if (auto ok = removeTreeNoFollow(home.root()); !ok) return Failure(ok.error());
    observer.removed(home.root());
    return plan;
  }
  for (const fs::path& p : plan.remove) {
    if (auto ok = removeTreeNoFollow(p); !ok) return Failure(ok.error());
    observer.removed(p);
  }
  return plan;
}

}  // namespace mesh::local
