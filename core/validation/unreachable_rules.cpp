#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/yaml/convert.h"

namespace mesh::core::validation {
namespace {

// Istio names a rule or match by its quoted name, or "#index" when it has none.
std::string labelOf(const Node& n, size_t index) {
  std::string_view name = text(&n, "name");
  if (!name.empty()) return nlohmann::json(std::string(name)).dump();
  return fmt::format("#{}", index);
}

}  // namespace

void checkUnreachableRules(const Node* spec, std::string_view section, ValidationContext& ctx) {
  auto rules = items(spec, section);
  std::string base = sub("spec", section);
  std::map<std::string, size_t> seen;  // canonical match JSON → first rule using it
  bool catchAllSeen = false;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Node& rule = *rules[i];
    if (!rule.isMapping()) continue;
    std::string path = at(base, i);
    std::string ruleLabel = labelOf(rule, i);
    auto matches = items(&rule, "match");
    if (matches.empty()) {
      if (catchAllSeen)
        ctx.analysisWarning(&rule, path, fmt::format("rule {} is never used: only the last rule can have no matches", ruleLabel),
                            "IST0130", {ruleLabel, "only the last rule can have no matches"});
      catchAllSeen = true;
      continue;
    }
    size_t duplicates = 0;
    for (size_t m = 0; m < matches.size(); ++m) {
      auto [it, inserted] = seen.emplace(toJson(*matches[m]).dump(), i);
      if (inserted) continue;
      ++duplicates;
      std::string matchLabel = labelOf(*matches[m], m);
      std::string firstLabel = labelOf(*rules[it->second], it->second);
      ctx.analysisWarning(matches[m], at(sub(path, "match"), m),
                          fmt::format("match {} of rule {} is never used: rule {} has the same match", matchLabel,
                                      ruleLabel, firstLabel),
                          "IST0131", {ruleLabel, matchLabel, firstLabel});
    }
    if (duplicates == matches.size())
      ctx.analysisWarning(&rule, path, fmt::format("rule {} is never used: all its matches are used by prior rules", ruleLabel),
                          "IST0130", {ruleLabel, "all matches used by prior rules"});
  }
}

}  // namespace mesh::core::validation
