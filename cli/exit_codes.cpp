#include "cli/exit_codes.h"

#include <fmt/format.h>

#include <cstdio>

namespace mesh::cli {

int exitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::Usage: return kExitUsage;
    case ErrorCode::InvalidInput: return kExitBadData;
    case ErrorCode::NotFound: return kExitBadData;
    case ErrorCode::Io: return kExitIoError;
    case ErrorCode::Conflict: return kExitBadData;
    case ErrorCode::Unavailable: return kExitUnavailable;
    case ErrorCode::Internal: return kExitInternal;
  }
  return kExitInternal;
}

int reportError(const Error& error) {
  fmt::print(stderr, "Error: {}\n", error.message);
  if (!error.hint.empty()) fmt::print(stderr, "hint: {}\n", error.hint);
  return exitCodeFor(error.code);
}

}  // namespace mesh::cli
