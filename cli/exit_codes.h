// The one place that maps errors to process exit codes and prints them, following istioctl
// (and sysexits): 0 ok, 64 usage, 65 bad input data, 79 analyzers found issues.
#pragma once

#include "core/result.h"

namespace mesh::cli {

inline constexpr int kExitOk = 0;
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
