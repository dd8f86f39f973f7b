#include "local/installer.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/version.h"
#include "local/install_state.h"
#include "local/process_supervisor.h"
#include "local/readiness.h"

namespace mesh::local {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds(Clock::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

class Installer {
 public:
  Installer(const MeshHome& home, const InstallRequest& request, InstallObserver& observer,
            const InstallState* previous)
      : home_(home), request_(request), observer_(observer), supervisor_(home), previous_(previous) {}

  // Brings one component up; fills its state entry when it runs.
  StepReport ensure(const Component& c, ComponentState& state) {
    state.name = c.name;
    state.role = c.role;
    for (const auto& p : c.ports) state.ports[p.name] = p.port;
    if (!c.skipped.empty()) {
      state.skipped = c.skipped;
      return {c.name, StepOutcome::Skipped, 0, c.skipped, {}};
    }
    state.binary = c.binary.string();
    state.args = c.argv;
    state.readyUrl = c.readyUrl;

    ProcessSupervisor::Status status = supervisor_.status(c.name);
    std::string restartReason;
    if (status.state == ProcessSupervisor::State::Running) {
      if (status.record.argv == c.argv) return checkRunning(c, status.record, state);
      observer_.starting(c, "restarting");
      auto stopped = supervisor_.stop(c.name, request_.stopGrace);
      if (!stopped) return failed(c, stopped.error().message, {stopped.error().hint});
      restartReason = "settings changed";
    } else if (status.state == ProcessSupervisor::State::Stopped) {
      supervisor_.forget(c.name);
      restartReason = "was not running";
    }
    return start(c, state, restartReason);
  }

  // Stops a component the new plan does not have.
  StepReport retire(const std::string& name) {
    auto stopped = supervisor_.stop(name, request_.stopGrace);
    if (!stopped) return {name, StepOutcome::Failed, 0, stopped.error().message, {stopped.error().hint}};
    return {name, StepOutcome::Stopped, 0, "no longer part of this install", {}};
  }

 private:
  StepReport checkRunning(const Component& c, const ProcessSupervisor::Record& record, ComponentState& state) {
    state.pid = record.pid;
    const ComponentState* before = previous_ ? previous_->find(c.name) : nullptr;
    state.startedAt = before && before->pid == record.pid ? before->startedAt : nowRfc3339();
    WaitResult w = waitUntilReady(
        c.readyUrl, Clock::now() + request_.readinessTimeout,
        [&]() -> std::optional<std::string> {
          if (processMatches(record.pid, record.argv)) return std::nullopt;
          return std::string("exited");
        },
        [&] { observer_.waiting(c); });
    if (w.outcome == WaitOutcome::Ready)
      return {c.name, StepOutcome::AlreadyRunning, record.pid, fmt::format("pid {}", record.pid), {}};
    if (w.outcome == WaitOutcome::Exited)
      return failed(c, fmt::format("pid {} exited while meshctl checked it", record.pid),
                    {"run `meshctl install --local` again to restart it"});
    return failed(c,
                  fmt::format("running (pid {}) but not ready after {}: {}", record.pid,
                              seconds(request_.readinessTimeout), w.lastProblem),
                  {fmt::format("it may still be loading config; wait, or raise --readiness-timeout; "
                               "`meshctl uninstall --local` stops it")});
  }

  StepReport start(const Component& c, ComponentState& state, const std::string& restartReason) {
    for (const NamedPort& p : c.ports) {
      if (portIsFree(p.port)) continue;
      return failed(c, fmt::format("port {} ({}) on 127.0.0.1 is in use by another program", p.port, p.name),
                    {fmt::format("see who listens there with `ss -ltnp 'sport = :{}'`, or pick another port: "
                                 "--set {}=PORT",
                                 p.port, p.field)},
                    false);
    }
    observer_.starting(c, restartReason.empty() ? "starting" : "restarting");
    const auto began = Clock::now();
    auto pid = supervisor_.start(c.name, c.argv);
    if (!pid) return failed(c, pid.error().message, {pid.error().hint});
    state.pid = *pid;
    state.startedAt = nowRfc3339();
    WaitResult w = waitUntilReady(
        c.readyUrl, began + request_.readinessTimeout, [&] { return supervisor_.exitStatus(*pid); },
        [&] { observer_.waiting(c); });
    switch (w.outcome) {
      case WaitOutcome::Ready: {
        std::string detail = fmt::format("pid {}, ready in {}", *pid, seconds(Clock::now() - began));
        if (!restartReason.empty()) detail = fmt::format("{}; {}", restartReason, detail);
        return {c.name, restartReason.empty() ? StepOutcome::Started : StepOutcome::Restarted, *pid, detail, {}};
      }
      case WaitOutcome::Exited:
        supervisor_.forget(c.name);
        return failed(c, fmt::format("{} during start-up", w.exited), {});
      case WaitOutcome::TimedOut:
        break;
    }
    // Not ready in time: stop it rather than leave a half-started process behind.
    (void)supervisor_.stop(c.name, request_.stopGrace);
    return failed(c, fmt::format("not ready after {} (GET {}: {})", seconds(request_.readinessTimeout), c.readyUrl,
                                 w.lastProblem),
                  {"raise --readiness-timeout if it is only slow"});
  }

  StepReport failed(const Component& c, std::string what, std::vector<std::string> hints, bool withLog = true) {
    std::erase_if(hints, [](const std::string& h) { return h.empty(); });
    if (withLog) {
      auto tail = logTail(home_, c.name);
      if (!tail.empty()) {
        hints.push_back(fmt::format("last lines of {}:", home_.logFile(c.name).string()));
        hints.insert(hints.end(), tail.begin(), tail.end());
      }
    }
    return {c.name, StepOutcome::Failed, 0, std::move(what), std::move(hints)};
  }

  const MeshHome& home_;
  const InstallRequest& request_;
  InstallObserver& observer_;
  ProcessSupervisor supervisor_;
  const InstallState* previous_;
};

// The state without its time stamp: what decides whether an install changed anything.
nlohmann::ordered_json comparable(const InstallState& s) {
  nlohmann::ordered_json j = toJson(s);
  j.erase("installedAt");
  return j;
}

}  // namespace

std::vector<std::string> logTail(const MeshHome& home, std::string_view component, size_t lines) {
  std::vector<std::string> out;
  for (auto& line : tailFile(home.logFile(component), lines)) out.push_back("  " + line);
  return out;
}

Result<InstallResult> installLocal(const MeshHome& home, const InstallRequest& request, InstallObserver& observer) {
  InstallResult result;
  auto created = home.create();
  if (!created) return Failure(created.error());
  result.createdHome = *created;
  auto lock = HomeLock::acquire(home, request.lockWait, [&] { observer.waitingForLock(); });
  if (!lock) return Failure(lock.error());

  std::optional<InstallState> previous;
  if (auto s = readState(home.statePath())) previous = std::move(*s);

  InstallState next;
  next.meshctlVersion = std::string(kVersion);
  next.profile = request.profile;
  // The marker, not this run's mkdir: of two installs racing to create the home, only one made it.
  std::error_code ec;
  next.createdHome = std::filesystem::exists(home.createdMarker(), ec);
  next.iop = request.iop;

  Installer installer(home, request, observer, previous ? &*previous : nullptr);
  // What runs but is no longer planned goes first, freeing its ports for what replaces it.
  std::set<std::string> planned;
  for (const auto& c : request.components) planned.insert(c.name);
  ProcessSupervisor supervisor(home);
  for (const std::string& name : supervisor.recorded()) {
    if (planned.contains(name)) continue;
    StepReport r = installer.retire(name);
    observer.finished(r);
    result.steps.push_back(std::move(r));
  }
  for (const Component& c : request.components) {
    ComponentState state;
    StepReport r = installer.ensure(c, state);
    observer.finished(r);
    result.steps.push_back(std::move(r));
    next.components.push_back(std::move(state));
  }
  result.ok = std::ranges::none_of(result.steps, [](const StepReport& r) { return r.outcome == StepOutcome::Failed; });
  if (!result.ok) return result;

  if (previous && comparable(*previous) == comparable(next)) return result;
  next.installedAt = nowRfc3339();
  if (auto written = writeState(home.statePath(), next); !written) return Failure(written.error());
  result.changed = true;
  return result;
}

}  // namespace mesh::local
