// Result<T>: the one error style of meshctl. Library exceptions are caught where they are
// thrown and turned into an Error; an Error crosses module boundaries, an exception never does.
// cli/exit_codes maps ErrorCode to process exit codes in one place.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <version>
#if defined(__cpp_lib_expected)
#include <expected>
#endif

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

#if defined(__cpp_lib_expected)
template <class T>
using Result = std::expected<T, Error>;
using Failure = std::unexpected<Error>;
#else
// clang 14 (used only for the libFuzzer build) cannot compile libstdc++ 12's <expected>:
// this stand-in covers the part of std::expected meshctl uses.
class Failure {
 public:
  explicit Failure(Error e) : error_(std::move(e)) {}
  Error& error() { return error_; }

 private:
  Error error_;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like std::expected
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f.error())) {}  // NOLINT
  template <class U>
    requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::decay_t<U>, Failure>) &&
             (!std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Failure f) : error_(std::move(f.error())) {}  // NOLINT
  bool has_value() const { return !error_; }
  explicit operator bool() const { return has_value(); }
  void operator*() const {}
  void value() const {}
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};
#endif

inline Failure fail(ErrorCode code, std::string message, std::string hint = {}) {
  return Failure(Error{code, std::move(message), std::move(hint)});
}

}  // namespace mesh
