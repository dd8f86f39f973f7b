// Durations as Istio reads them from YAML: Go's time.ParseDuration syntax ("1.5s", "100ms",
// "1h30m", "0"), which istio.io/api's JSON decoding accepts for google.protobuf.Duration.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/validation/context.h"

namespace mesh::core::validation {

// Nanoseconds, or nullopt with `error` set to the reason (without the value).
std::optional<int64_t> parseDuration(std::string_view text, std::string* error = nullptr);

// The message for an unparsable duration, e.g.
// invalid duration "2x": use a number with a unit (ns, us, ms, s, m, h)
std::string durationError(std::string_view text);

constexpr int64_t kMillisecond = 1000000;
constexpr int64_t kSecond = 1000 * kMillisecond;

// Istio's ValidateDuration: at least 1ms and whole milliseconds. Reports on `node` when it is a
// string holding a parsable duration (the schema check reports the rest).
void checkIstioDuration(const Node* node, const std::string& path, ValidationContext& ctx);

}  // namespace mesh::core::validation
