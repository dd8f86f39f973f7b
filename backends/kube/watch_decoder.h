// Splits a watch response body (one JSON WatchEvent per line, as the API server writes them)
// into events, whatever the chunking of the bytes. Bounded: a line longer than the limit is an
// error, never an unbounded buffer. One decoder per stream; not thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mesh::backends::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

std::string_view watchEventTypeName(WatchEventType t);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  nlohmann::json object;  // the object; a metav1.Status for Error; only metadata for Bookmark
};

class WatchDecoder {
 public:
  explicit WatchDecoder(size_t maxEventBytes = 16u << 20) : max_(maxEventBytes) {}

  // Feeds bytes; calls `onEvent` for each complete event. Fails (and stays failed) on a line
  // that is not a WatchEvent or is over the limit.
  Result<void> feed(std::string_view bytes, const std::function<void(WatchEvent&&)>& onEvent);
  // At the end of the stream: an unterminated last line, if any, as an event.
  Result<void> finish(const std::function<void(WatchEvent&&)>& onEvent);

 private:
  Result<void> decodeLine(std::string_view line, const std::function<void(WatchEvent&&)>& onEvent);

  const size_t max_;
  std::string buffer_;
  std::optional<Error> failed_;
};

}  // namespace mesh::backends::kube
