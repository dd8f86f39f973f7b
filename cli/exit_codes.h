// The one place that maps errors to process exit codes and prints them, following istioctl
// (and sysexits): 0 ok, 64 usage, 65 bad input data, 69 a service is unavailable (a local mesh
// component not running or not ready), 79 analyzers found issues.
#pragma once

#include "core/result.h"

namespace mesh::cli {

inline constexpr int kExitOk = 0;
// The user answered no (or nothing) to a y/N prompt; istioctl exits 1 after "Cancelled.".
inline constexpr int kExitDeclined = 1;
// `wait` timed out before every proxy had the object; istioctl's x wait exits 1 then.
inline constexpr int kExitTimedOut = 1;
// `delete -f` named objects that do not exist; kubectl exits 1 after its NotFound lines.
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitBadData = 65;
inline constexpr int kExitIoError = 74;
inline constexpr int kExitUnavailable = 69;
inline constexpr int kExitInternal = 70;
inline constexpr int kExitAnalyzeIssues = 79;

int exitCodeFor(ErrorCode code);
// Prints "Error: message" (and "hint: ..." when there is one) to stderr; returns the exit code.
int reportError(const Error& error);

}  // namespace mesh::cli
