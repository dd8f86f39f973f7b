// Asking a program what it can do before relying on it: run it briefly (`--version`, `--help`)
// with a time limit and bounded output. Used to decide whether this meshproxy build can serve
// as a gateway: a build with no data plane says so and exits 69 on anything but --version and
// --help. Blocks its caller; any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace mesh::local {

struct Captured {
  int exitCode = -1;     // -1 when killed by a signal (or by the time limit)
  bool timedOut = false;
  std::string output;    // stdout and stderr together, at most maxBytes
};

// argv[0] is run as given (no PATH search).
Result<Captured> runAndCapture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                               size_t maxBytes = 64 * 1024);

// "" when `meshproxy` can run as a gateway: `--version` succeeds and `--help` offers the flags
// the gateway start uses (--xds-address, --id, --admin-address, --type, --status-address, --labels) and
// the data plane's --outbound-bind. Otherwise why not,
// for the install line ("this meshproxy build has no data plane yet").
std::string gatewayUnsupportedReason(const std::filesystem::path& meshproxy);

}  // namespace mesh::local
