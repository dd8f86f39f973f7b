// serviceentry.ConflictingServiceEntryProtocolAnalyzer (Istio serviceentry/
// conflictingserviceentries.go): ServiceEntries that declare the same host and port with
// different protocols (compared case-insensitively) in overlapping exportTo scopes (IST0177).
// A namespace scope overlaps itself and the all-namespaces scope. Each ServiceEntry is
// reported once.
#include <algorithm>
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/service_lookup.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kAll = "*";

struct ScopedHostPort {
  std::string scope;
  std::string host;
  int64_t port;
  auto operator<=>(const ScopedHostPort&) const = default;
};

struct ProtocolEntry {
  std::string protocol;
  const core::Resource* se;
};

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::set<std::string> exportScopes(const std::vector<std::string>& exportTo, std::string_view ns) {
  if (exportTo.empty() || std::find(exportTo.begin(), exportTo.end(), kAll) != exportTo.end())
    return {std::string(kAll)};
  std::set<std::string> out;
  for (const std::string& e : exportTo) out.insert(e == "." ? std::string(ns) : e);
  return out;
}

class ConflictingServiceEntryProtocolAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "serviceentry.ConflictingServiceEntryProtocolAnalyzer",
        "Checks if multiple ServiceEntries define the same host and port with different protocols",
        {kinds::ServiceEntry}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<ScopedHostPort, std::vector<ProtocolEntry>> index;
    for (const core::Resource* se : snapshot.all(kinds::ServiceEntry)) {
      const core::Node* spec = se->spec();
      if (!spec) continue;
      std::vector<std::string> hosts = stringList(spec->get("hosts"));
      const core::Node* ports = spec->get("ports");
      for (const std::string& scope : exportScopes(stringList(spec->get("exportTo")), se->namespace_()))
        for (const std::string& h : hosts)
          for (const core::Node* p : ports ? ports->items() : std::span<const core::Node* const>()) {
            int64_t number = p->get("number") ? p->get("number")->asInt().value_or(0) : 0;
            std::string protocol = p->get("protocol") ? std::string(p->get("protocol")->text()) : std::string();
            index[{scope, h, number}].push_back({protocol, se});
          }
    }

    std::set<const core::Resource*> reported;
    for (const auto& [key, own] : index) {
      std::vector<ProtocolEntry> entries = own;
      if (key.scope != kAll) {
        auto all = index.find({std::string(kAll), key.host, key.port});
        if (all != index.end()) entries.insert(entries.end(), all->second.begin(), all->second.end());
      }
      std::set<std::string> protocols;
      for (const ProtocolEntry& e : entries) protocols.insert(upper(e.protocol));
      if (protocols.size() < 2) continue;

      std::set<std::string> names;
      for (const ProtocolEntry& e : entries) names.insert(fullName(*e.se));
      std::string namesStr, protocolsStr;
      for (const std::string& n : names) namesStr += (namesStr.empty() ? "" : ", ") + n;
      for (const std::string& p : protocols) protocolsStr += (protocolsStr.empty() ? "" : ", ") + p;

      for (const ProtocolEntry& e : entries) {
        if (!reported.insert(e.se).second) continue;
        reporter.report(messageType("ConflictingServiceEntryProtocol"), *e.se,
                        {namesStr, key.host, key.port, protocolsStr},
                        e.se->metadata() ? e.se->metadata()->get("name") : nullptr);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeConflictingServiceEntryProtocolAnalyzer() {
  return std::make_unique<ConflictingServiceEntryProtocolAnalyzer>();
}

}  // namespace mesh::analysis
