// The local install: bring the components of an install plan to "running and ready" on this
// machine and record it in state.yaml. Idempotent: a component already running with the same
// command line and answering ready is left alone; one that crashed (pid file, no process) or
// whose settings changed is restarted; one the new plan no longer has is stopped. state.yaml is
// written last, and only when every component is ready. Holds the mesh home's lock throughout.
// Progress goes to an InstallObserver (the CLI's ✔/✘ lines and spinner). Blocking; one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "local/component.h"
#include "local/mesh_home.h"

namespace mesh::local {

enum class StepOutcome { AlreadyRunning, Started, Restarted, Stopped, Skipped, Failed };

struct StepReport {
  std::string component;
  StepOutcome outcome = StepOutcome::Failed;
  pid_t pid = 0;
  std::string detail;              // "was not running", "ready in 0.4s"; for Failed, what went wrong
  std::vector<std::string> hints;  // for Failed: what to do, then the last lines of the log
};

class InstallObserver {
 public:
  virtual ~InstallObserver() = default;
  virtual void waitingForLock() {}
  // A component is being started ("starting", "restarting"): a spinner begins.
  virtual void starting(const Component& component, std::string_view what) = 0;
  // Called between readiness probes while it waits (redraws the spinner).
  virtual void waiting(const Component& component) = 0;
  virtual void finished(const StepReport& report) = 0;
};

struct InstallRequest {
  std::string profile;
  nlohmann::json iop;  // the merged IstioOperator, recorded in state.yaml
  std::vector<Component> components;
  std::chrono::milliseconds readinessTimeout{60000};
  std::chrono::milliseconds stopGrace{10000};
  std::chrono::milliseconds lockWait{120000};
};

struct InstallResult {
  std::vector<StepReport> steps;
  bool ok = false;            // every component that can run is ready
  bool changed = false;       // state.yaml was (re)written
  bool createdHome = false;   // the mesh home was created by this run
};

Result<InstallResult> installLocal(const MeshHome& home, const InstallRequest& request, InstallObserver& observer);

// The last lines of a component's log, indented for a hint block; at most 20.
std::vector<std::string> logTail(const MeshHome& home, std::string_view component, size_t lines = 20);

}  // namespace mesh::local
