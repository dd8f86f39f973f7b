// Result<T>: the one error style of meshctl. Library exceptions are caught where they are
// thrown and turned into an Error; an Error crosses module boundaries, an exception never does.
// cli/exit_codes maps ErrorCode to process exit codes in one place.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace mesh {

enum class ErrorCode {
  Usage,         // bad flags or arguments (exit 64)
  InvalidInput,  // the user's data is wrong (exit 65)
  NotFound,
  Io,
  Conflict,
  Unavailable,
  Internal,
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::string hint;  // optional "what to do about it"
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message, std::string hint = {}) {
  return std::unexpected(Error{code, std::move(message), std::move(hint)});
}

}  // namespace mesh
