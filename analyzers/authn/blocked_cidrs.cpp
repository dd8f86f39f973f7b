// authn.BlockedCIDRsAnalyzer: once any RequestAuthentication exists, istiod fetches JWKS from
// URIs that users control; each istiod Deployment (label app=istiod) should set
// BLOCKED_CIDRS_IN_JWKS_URIS to keep those fetches off internal networks (IST0175).
#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

bool setsBlockedCidrs(const core::Resource& deployment) {
  const core::Node* spec = deployment.spec();
  const core::Node* tmpl = spec ? spec->get("template") : nullptr;
  const core::Node* podSpec = tmpl ? tmpl->get("spec") : nullptr;
  const core::Node* containers = podSpec ? podSpec->get("containers") : nullptr;
  if (!containers) return false;
  for (const core::Node* c : containers->items()) {
    const core::Node* env = c->get("env");
    if (!env) continue;
    for (const core::Node* e : env->items()) {
      const core::Node* name = e->get("name");
      const core::Node* value = e->get("value");
      if (name && name->text() == "BLOCKED_CIDRS_IN_JWKS_URIS" && value && !value->text().empty()) return true;
    }
  }
  return false;
}

// At most five names, then ", and N more".
std::string listNames(const std::vector<std::string>& names) {
  constexpr size_t kMaxDisplay = 5;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxDisplay; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kMaxDisplay) out += ", and " + std::to_string(names.size() - kMaxDisplay) + " more";
  return out;
}

class BlockedCidrsAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "authn.BlockedCIDRsAnalyzer",
        "Checks that BLOCKED_CIDRS_IN_JWKS_URIS is configured on istiod when RequestAuthentication resources exist",
        {kinds::RequestAuthentication, kinds::Deployment}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::vector<std::string> names;
    for (const core::Resource* ra : snapshot.all(kinds::RequestAuthentication))
      names.push_back(ra->namespace_().empty() ? std::string(ra->name())
                                               : std::string(ra->namespace_()) + "/" + std::string(ra->name()));
    if (names.empty()) return;
    for (const core::Resource* d : snapshot.all(kinds::Deployment)) {
      if (d->label("app") != "istiod" || setsBlockedCidrs(*d)) continue;
      reporter.report(messageType("JwksUriFetchUnrestricted"), *d,
                      {static_cast<int64_t>(names.size()), listNames(names)});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeBlockedCidrsAnalyzer() { return std::make_unique<BlockedCidrsAnalyzer>(); }

}  // namespace mesh::analysis
