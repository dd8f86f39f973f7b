// conditions.ConditionAnalyzer: surfaces status conditions that Istio (or a Gateway-API
// controller) set to their negative value (IST0171). Only the condition types Istio knows per
// kind are considered, so conditions written by other controllers are ignored. An
// AuthorizationPolicy whose WaypointAccepted reason is PartiallyInvalid is reported even though
// its status is True.
#include <algorithm>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

struct KindConditions {
  KindRef kind;
  std::vector<std::string_view> negativeWhenFalse;
  bool routeParents = false;  // conditions live under status.parents[].conditions
};

const std::vector<KindConditions>& table() {
  static const std::vector<KindConditions> kTable{
      {kinds::Service, {"istio.io/WaypointBound"}},
      {kinds::ServiceEntry, {"istio.io/WaypointBound"}},
      {kinds::WorkloadEntry, {"istio.io/WaypointBound"}},
      {kinds::AuthorizationPolicy, {"ZtunnelAccepted", "WaypointAccepted"}},
      {kinds::KubernetesGateway, {"Accepted", "Programmed", "ResolvedRefs"}},
      {kinds::HTTPRoute, {"Accepted", "Programmed", "ResolvedRefs"}, true},
      {kinds::GRPCRoute, {"Accepted", "Programmed", "ResolvedRefs"}, true},
  };
  return kTable;
}

std::string text(const core::Node* cond, std::string_view key) {
  const core::Node* n = cond->get(key);
  return n && n->isScalar() ? std::string(n->text()) : std::string();
}

class ConditionAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "conditions.ConditionAnalyzer",
        "Checks for negative status conditions on resources",
        {kinds::Service, kinds::ServiceEntry, kinds::WorkloadEntry, kinds::AuthorizationPolicy,
         kinds::KubernetesGateway, kinds::HTTPRoute, kinds::GRPCRoute}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const KindConditions& k : table()) {
      for (const core::Resource* r : snapshot.all(k.kind)) {
        for (const core::Node* cond : conditionsOf(*r, k.routeParents)) {
          std::string type = text(cond, "type"), status = text(cond, "status"), reason = text(cond, "reason");
          bool negative = status == "False" && std::find(k.negativeWhenFalse.begin(), k.negativeWhenFalse.end(),
                                                         type) != k.negativeWhenFalse.end();
          if (negative) report(*r, cond, reporter);
          if (k.kind == kinds::AuthorizationPolicy && type == "WaypointAccepted" && reason == "PartiallyInvalid")
            report(*r, cond, reporter);
        }
      }
    }
  }

 private:
  static std::vector<const core::Node*> conditionsOf(const core::Resource& r, bool routeParents) {
    std::vector<const core::Node*> out;
    const core::Node* status = r.root().get("status");
    if (!status) return out;
    auto add = [&](const core::Node* holder) {
      if (const core::Node* conds = holder->get("conditions"))
        for (const core::Node* c : conds->items()) out.push_back(c);
    };
    if (!routeParents) {
      add(status);
    } else if (const core::Node* parents = status->get("parents")) {
      for (const core::Node* p : parents->items()) add(p);
    }
    return out;
  }

  static void report(const core::Resource& r, const core::Node* cond, Reporter& reporter) {
    reporter.report(messageType("NegativeConditionStatus"), r,
                    {text(cond, "type"), text(cond, "reason"), text(cond, "message")}, cond);
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeConditionAnalyzer() { return std::make_unique<ConditionAnalyzer>(); }

}  // namespace mesh::analysis
