// k8sgateway.CRDVersionAnalyzer: Gateway API CRDs whose bundle-version annotation is below what
// this Istio version needs are ignored by istiod, so their resources are never processed
// (IST0176). Versions are read as Masterminds semver does (a "v" prefix and missing minor or
// patch allowed); the pre-release part is ignored in the comparison.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

struct Version {
  std::array<uint64_t, 3> core{};
  std::string prerelease;
  std::string metadata;

  std::string toString() const {
    std::string out = std::to_string(core[0]) + "." + std::to_string(core[1]) + "." + std::to_string(core[2]);
    if (!prerelease.empty()) out += "-" + prerelease;
    if (!metadata.empty()) out += "+" + metadata;
    return out;
  }
};

struct Minimum {
  std::string_view crd;
  Version version;
};

// Istio's gatewayapi.MinimumCRDVersions.
const std::array<Minimum, 3>& minimums() {
  static const std::array<Minimum, 3> kMinimums{{
      {"grpcroutes.gateway.networking.k8s.io", {{1, 1, 0}, "", ""}},
      {"backendtlspolicies.gateway.networking.k8s.io", {{1, 4, 0}, "", ""}},
      {"tlsroutes.gateway.networking.k8s.io", {{1, 5, 0}, "", ""}},
  }};
  return kMinimums;
}

bool identifiersValid(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view id = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (id.empty()) return false;
    for (char c : id)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// semver.NewVersion (the lenient parser): v?MAJOR[.MINOR[.PATCH]][-PRERELEASE][+METADATA].
std::optional<Version> parseVersion(std::string_view s) {
  Version v;
  if (size_t plus = s.find('+'); plus != std::string_view::npos) {
    v.metadata = std::string(s.substr(plus + 1));
    if (!identifiersValid(v.metadata)) return std::nullopt;
    s = s.substr(0, plus);
  }
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    v.prerelease = std::string(s.substr(dash + 1));
    if (!identifiersValid(v.prerelease)) return std::nullopt;
    // Numeric pre-release identifiers may not have leading zeros.
    size_t start = 0;
    std::string_view pre = v.prerelease;
    while (start <= pre.size()) {
      size_t dot = pre.find('.', start);
      std::string_view id = pre.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      bool numeric =
          std::all_of(id.begin(), id.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (numeric && id.size() > 1 && id[0] == '0') return std::nullopt;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    s = s.substr(0, dash);
  }
  if (!s.empty() && s[0] == 'v') s.remove_prefix(1);
  size_t part = 0;
  while (true) {
    if (part == 3) return std::nullopt;
    size_t dot = s.find('.');
    std::string_view num = s.substr(0, dot);
    if (num.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v.core[part]);
    if (ec != std::errc() || ptr != num.data() + num.size()) return std::nullopt;
    ++part;
    if (dot == std::string_view::npos) break;
    s = s.substr(dot + 1);
  }
  return v;
}

class CrdVersionAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"k8sgateway.CRDVersionAnalyzer",
                                    "Checks Gateway API CRDs are at the minimum version required by this Istio version",
                                    {kinds::CustomResourceDefinition}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* crd : snapshot.all(kinds::CustomResourceDefinition)) {
      const Minimum* minimum = nullptr;
      for (const Minimum& m : minimums())
        if (m.crd == crd->name()) minimum = &m;
      if (!minimum) continue;
      const core::Node* annotations = crd->annotations();
      const core::Node* bundle = annotations ? annotations->get("gateway.networking.k8s.io/bundle-version") : nullptr;
      if (!bundle || !bundle->isScalar()) continue;  // istiod logs this case itself
      auto installed = parseVersion(bundle->text());
      if (!installed) continue;
      if (installed->core < minimum->version.core)
        reporter.report(messageType("GatewayAPICRDVersionBelowMinimum"), *crd,
                        {std::string(crd->name()), installed->toString(), minimum->version.toString()}, bundle);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeK8sGatewayCrdVersionAnalyzer() { return std::make_unique<CrdVersionAnalyzer>(); }

}  // namespace mesh::analysis
