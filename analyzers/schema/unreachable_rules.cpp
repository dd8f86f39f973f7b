#include "analyzers/schema/unreachable_rules.h"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/yaml/convert.h"

namespace mesh::analysis {
namespace {

// A rule or match is named by its quoted name, or by "#index" when it has none.
std::string labelOf(const core::Node& n, size_t index) {
  const core::Node* name = n.isMapping() ? n.get("name") : nullptr;
  if (name && name->isScalar() && !name->text().empty()) return nlohmann::json(std::string(name->text())).dump();
  return fmt::format("#{}", index);
}

void analyzeRoutes(const core::Resource& vs, const core::Node& routes, Reporter& reporter) {
  std::map<std::string, size_t> seen;  // canonical match JSON → first rule using it
  bool catchAllSeen = false;
  auto rules = routes.items();
  for (size_t i = 0; i < rules.size(); ++i) {
    const core::Node& rule = *rules[i];
    if (!rule.isMapping()) continue;
    const core::Node* matches = rule.get("match");
    if (!matches || matches->size() == 0) {
      // Only the last rule may match everything; a second catch-all is dead.
      if (catchAllSeen)
        reporter.report(messageType("VirtualServiceUnreachableRule"), vs,
                        {labelOf(rule, i), std::string("only the last rule can have no matches")}, &rule);
      catchAllSeen = true;
      continue;
    }
    size_t duplicates = 0;
    auto items = matches->items();
    for (size_t m = 0; m < items.size(); ++m) {
      std::string key = core::toJson(*items[m]).dump();
      auto [it, inserted] = seen.emplace(key, i);
      if (inserted) continue;
      ++duplicates;
      reporter.report(messageType("VirtualServiceIneffectiveMatch"), vs,
                      {labelOf(rule, i), labelOf(*items[m], m), labelOf(*rules[it->second], it->second)}, items[m]);
    }
    if (duplicates == items.size())
      reporter.report(messageType("VirtualServiceUnreachableRule"), vs,
                      {labelOf(rule, i), std::string("all matches used by prior rules")}, &rule);
  }
}

}  // namespace

void reportUnreachableRules(const core::Resource& vs, Reporter& reporter) {
  const core::Node* spec = vs.spec();
  if (!spec || !spec->isMapping()) return;
  for (std::string_view section : {"http", "tcp", "tls"})
    if (const core::Node* routes = spec->get(section); routes && routes->isSequence())
      analyzeRoutes(vs, *routes, reporter);
}

}  // namespace mesh::analysis
