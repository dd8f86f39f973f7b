// A process-wide leveled logger for the servers (meshd, meshproxy): one line per event on
// stderr, "2026-11-26T17:00:00.123Z info ads: message", at or above the level set at start-up.
// Thread-safe; lines never interleave. Never log secrets: callers log names, not contents.
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace mesh::log {

enum class Level { Debug, Info, Warn, Error };

// "debug", "info", "warn", "error"; false for anything else.
bool parseLevel(std::string_view text, Level& out);
void setLevel(Level level);
bool enabled(Level level);
void write(Level level, std::string_view scope, std::string_view message);

template <typename... Args>
void debug(std::string_view scope, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Debug)) write(Level::Debug, scope, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view scope, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Info)) write(Level::Info, scope, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view scope, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Warn)) write(Level::Warn, scope, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view scope, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Error)) write(Level::Error, scope, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mesh::log
