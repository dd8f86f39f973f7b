// PushHistory: a bounded record of xDS pushes and push errors for the debug API's
// GetPushStatus: counts per type since start, and the last kCapacity pushes and errors.
// meshd feeds it from the ADS server's hooks (worker-pool threads, concurrently); the debug
// service reads it from gRPC threads. Every method is thread-safe. Recording a push copies no
// strings after a type's first push: it is on the push path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::debug {

class PushHistory {
 public:
  static constexpr size_t kCapacity = 64;
  using Clock = std::chrono::system_clock;

  struct TypeStats {
    uint64_t pushes = 0;
    uint64_t bytes = 0;
    uint64_t nacks = 0;
    uint64_t errors = 0;  // generation failures
    Clock::time_point lastPush{};
  };
  struct Push {
    Clock::time_point time;
    std::string typeUrl;
    size_t bytes = 0;
    double seconds = 0;
  };
  enum class ErrorKind { Nack, Internal };
  struct Error {
    Clock::time_point time;
    ErrorKind kind = ErrorKind::Nack;
    std::string proxyId;
    std::string typeUrl;
    std::string message;
  };
  // A copy of the record; lists are newest first.
  struct View {
    std::map<std::string, TypeStats, std::less<>> types;
    std::vector<Push> pushes;
    std::vector<Error> errors;
  };

  void recordPush(std::string_view typeUrl, size_t bytes, double seconds);
  void recordError(ErrorKind kind, std::string_view proxyId, std::string_view typeUrl, std::string_view message);
  View view() const;

 private:
  struct PushSlot {
    Clock::time_point time;
    const std::string* typeUrl = nullptr;  // a key of types_ (map keys never move)
    size_t bytes = 0;
    double seconds = 0;
  };

  TypeStats& statsFor(std::string_view typeUrl, const std::string** key);

  mutable std::mutex mu_;
  std::map<std::string, TypeStats, std::less<>> types_;
  std::array<PushSlot, kCapacity> pushes_{};  // ring buffer
  size_t pushCount_ = 0;
  std::array<Error, kCapacity> errors_{};
  size_t errorCount_ = 0;
};

}  // namespace mesh::debug
