// envoyfilter.EnvoyPatchAnalyzer (Istio envoyfilter.EnvoyPatchAnalyzer): configPatches whose
// operation does not fit what they apply to, or may not apply reliably.
//  - IST0153 / IST0154: ADD or REMOVE on ROUTE_CONFIGURATION or HTTP_ROUTE (ignored there);
//  - IST0152: REPLACE on anything but HTTP_FILTER or NETWORK_FILTER;
//  - IST0151: a relative operation (INSERT_BEFORE/AFTER, REPLACE, REMOVE) without a priority;
//  - IST0155 instead of IST0151 when an earlier patch of the same filter name set
//    match.proxy.proxyVersion (names carry over from one EnvoyFilter to the next).
// Istio points these messages at configPatches[i].patch.value, a map its line index does not
// hold, so they carry the EnvoyFilter's own line and repeats within one EnvoyFilter collapse.
#include <set>

#include "analyzers/analyzer.h"
#include "core/yaml/convert.h"

namespace mesh::analysis {
namespace {

// An enum field written as its name or its number.
std::string_view enumName(const core::Node* n, std::initializer_list<std::string_view> names) {
  if (!n || !n->isScalar()) return {};
  if (auto i = n->asInt()) {
    if (*i >= 0 && static_cast<size_t>(*i) < names.size()) return *(names.begin() + *i);
    return {};
  }
  return n->text();
}

std::string_view operationOf(const core::Node* patch) {
  return enumName(patch->get("operation"), {"INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE",
                                            "INSERT_AFTER", "INSERT_FIRST", "REPLACE"});
}

std::string_view applyToOf(const core::Node* configPatch) {
  return enumName(configPatch->get("applyTo"),
                  {"INVALID", "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER",
                   "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE", "CLUSTER",
                   "EXTENSION_CONFIG", "BOOTSTRAP", "LISTENER_FILTER"});
}

const core::Node* at(const core::Node* n, std::initializer_list<std::string_view> path) {
  for (std::string_view key : path) n = n && n->isMapping() ? n->get(key) : nullptr;
  return n;
}

// The filter a patch is about: its value's "name" field, else the listener filter it matches.
// Istio compares the protobuf Value's debug form for the former, so a value name never equals
// a matched filter name; the "value:" prefix keeps that.
std::string instanceName(const core::Node* configPatch, const core::Node* patch) {
  const core::Node* value = patch->get("value");
  if (!value || !value->isMapping() || value->size() == 0) return {};
  if (const core::Node* name = value->get("name")) return "value:" + core::toJson(*name).dump();
  const core::Node* chain = at(configPatch, {"match", "listener", "filterChain"});
  if (chain && !chain->isNull())
    return std::string(at(chain, {"filter", "name"}) ? at(chain, {"filter", "name"})->text() : "");
  return {};
}

class EnvoyPatchAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "envoyfilter.EnvoyPatchAnalyzer", "Checks an envoyFilters ", {kinds::EnvoyFilter}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::set<std::string, std::less<>> versionedNames;  // filter names of patches that set proxyVersion
    for (const core::Resource* ef : snapshot.all(kinds::EnvoyFilter)) {
      const core::Node* spec = ef->spec();
      const core::Node* patches = spec ? spec->get("configPatches") : nullptr;
      if (!patches) continue;
      int64_t priority = spec->get("priority") ? spec->get("priority")->asInt().value_or(0) : 0;
      for (const core::Node* cp : patches->items()) {
        const core::Node* patch = cp->get("patch");
        if (!patch || patch->isNull()) break;  // Istio stops at the first patch-less entry
        std::string name = instanceName(cp, patch);
        std::string_view op = operationOf(patch);
        std::string_view applyTo = applyToOf(cp);
        bool routeLevel = applyTo == "ROUTE_CONFIGURATION" || applyTo == "HTTP_ROUTE";
        auto relative = [&] {
          if (priority != 0) return;
          bool versioned = versionedNames.contains(name);
          reporter.report(messageType(versioned ? "EnvoyFilterUsesRelativeOperationWithProxyVersion"
                                                : "EnvoyFilterUsesRelativeOperation"),
                          *ef, {});
        };
        if (op == "ADD") {
          if (routeLevel)
            reporter.report(messageType("EnvoyFilterUsesAddOperationIncorrectly"), *ef, {});
        } else if (op == "REMOVE") {
          if (routeLevel)
            reporter.report(messageType("EnvoyFilterUsesRemoveOperationIncorrectly"), *ef, {});
          else
            relative();
        } else if (op == "REPLACE") {
          if (applyTo != "NETWORK_FILTER" && applyTo != "HTTP_FILTER")
            reporter.report(messageType("EnvoyFilterUsesReplaceOperationIncorrectly"), *ef, {});
          else
            relative();
        } else if (op == "INSERT_BEFORE" || op == "INSERT_AFTER") {
          relative();
        }
        if (const core::Node* version = at(cp, {"match", "proxy", "proxyVersion"});
            version && !version->text().empty())
          versionedNames.insert(name);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeEnvoyPatchAnalyzer() {
  return std::make_unique<EnvoyPatchAnalyzer>();
}

}  // namespace mesh::analysis
