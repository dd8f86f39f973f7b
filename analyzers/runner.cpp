#include "analyzers/runner.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "analyzers/registry.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kSuppressAnnotation = "galley.istio.io/analyze-suppress";

bool matchesPattern(std::string_view pattern, std::string_view value) {
  if (pattern.ends_with('*')) return value.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == value;
}

// "Kind namespace/name" → "Kind name.namespace", the form users write in -S.
std::string dottedForm(const std::string& origin) {
  size_t space = origin.find(' ');
  size_t slash = origin.find('/');
  if (space == std::string::npos || slash == std::string::npos) return origin;
  return origin.substr(0, space + 1) + origin.substr(slash + 1) + "." + origin.substr(space + 1, slash - space - 1);
}

// The origin may list codes to ignore in an annotation: "IST0102,IST0108", or "*" for all.
bool suppressedByAnnotation(const Message& m) {
  if (!m.resource) return false;
  std::string_view list = m.resource->annotation(kSuppressAnnotation);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view code = list.substr(0, comma);
    while (code.starts_with(' ')) code.remove_prefix(1);
    while (code.ends_with(' ')) code.remove_suffix(1);
    if (code == "*" || code == m.type->code) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<Suppression> parseSuppression(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) return std::nullopt;
  return Suppression{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

RunResult runAnalyzers(const Snapshot& snapshot, const RunOptions& options) {
  RunResult result;
  Reporter reporter;
  for (const auto& analyzer : allAnalyzers()) {
    const AnalyzerInfo& info = analyzer->info();
    if (!options.analyzers.empty() &&
        std::find(options.analyzers.begin(), options.analyzers.end(), info.name) == options.analyzers.end())
      continue;
    if (!options.available.empty()) {
      auto missing = std::find_if(info.inputs.begin(), info.inputs.end(), [&](const KindRef& k) {
        return std::find(options.available.begin(), options.available.end(), k) == options.available.end();
      });
      if (missing != info.inputs.end()) {
        result.skipped.push_back(fmt::format("{}: input {} is not available", info.name, missing->kind));
        continue;
      }
    }
    auto start = std::chrono::steady_clock::now();
    analyzer->analyze(snapshot, reporter);
    result.ran.emplace_back(std::string(info.name),
                            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  auto& msgs = reporter.messages();
  std::erase_if(msgs, [&](const Message& m) {
    for (const auto& s : options.suppressions)
      if ((s.code == "*" || s.code == m.type->code) &&
          (matchesPattern(s.resource, dottedForm(m.origin)) || matchesPattern(s.resource, m.origin)))
        return true;
    return suppressedByAnnotation(m);
  });
  std::stable_sort(msgs.begin(), msgs.end(), [](const Message& a, const Message& b) {
    return std::tie(a.origin, a.type->code) < std::tie(b.origin, b.type->code);
  });
  // Identical messages (same type, origin, reference and text) are reported once.
  std::set<std::tuple<std::string_view, std::string, std::string, uint32_t, std::string>> seen;
  for (auto& m : msgs)
    if (seen.emplace(m.type->code, m.origin, m.file, m.line, m.text()).second) result.messages.push_back(std::move(m));
  return result;
}

}  // namespace mesh::analysis
