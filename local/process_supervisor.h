// Runs the local mesh's programs as background processes that outlive meshctl: each in its own
// session (setsid, so a terminal's ^C or hang-up does not reach it), stdin from /dev/null,
// stdout and stderr appended to logs/<component>.log, its pid in run/<component>.pid and its
// command line in run/<component>.cmdline. A process counts as running only while
// /proc/PID/cmdline is exactly the recorded command line: after a crash the pid may be reused by
// an unrelated program, which must never be reported healthy or be signalled.
// One supervisor per command run, on the thread that runs it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "local/mesh_home.h"

namespace mesh::local {

class ProcessSupervisor {
 public:
  explicit ProcessSupervisor(MeshHome home) : home_(std::move(home)) {}

  struct Record {
    pid_t pid = 0;
    std::vector<std::string> argv;
  };
  enum class State {
    NotStarted,  // no pid file
    Running,     // the recorded process is alive and is still the program started
    Stopped,     // a pid file, but that process is gone (or the pid is another program now)
  };
  struct Status {
    State state = State::NotStarted;
    Record record;
    std::string why;  // for Stopped: "pid 1234 is not running"
  };
  Status status(std::string_view component) const;
  // Components with a pid file, sorted.
  std::vector<std::string> recorded() const;

  // Starts argv (argv[0] an absolute path) detached, and records it. Fails when it cannot be
  // executed at all; a program that starts and then exits is seen through exitStatus().
  Result<pid_t> start(std::string_view component, const std::vector<std::string>& argv);
  // For a process started by this supervisor: how it ended ("exited with code 69", "killed by
  // signal 9") once it has, reaping it; nullopt while it runs.
  std::optional<std::string> exitStatus(pid_t pid) const;

  enum class StopOutcome { Terminated, Killed, NotRunning };
  // SIGTERM, then SIGKILL once `grace` has passed; only a process that is still the recorded
  // one. Removes the pid and cmdline files either way.
  Result<StopOutcome> stop(std::string_view component, std::chrono::milliseconds grace);
  // Removes the pid and cmdline files.
  void forget(std::string_view component) const;

 private:
  MeshHome home_;
};

// True when pid is alive, not a zombie, and /proc/PID/cmdline is exactly argv.
bool processMatches(pid_t pid, const std::vector<std::string>& argv);

// The last `lines` lines of a file, reading at most its last `maxBytes` bytes (a log may be
// large); empty when it cannot be read.
std::vector<std::string> tailFile(const std::filesystem::path& path, size_t lines, size_t maxBytes = 64 * 1024);

}  // namespace mesh::local
