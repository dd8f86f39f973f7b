// gateway.ConflictingGatewayAnalyzer: two Gateways on the same workload and port that declare
// the same host with the same bind address conflict (IST0145). Following Istio, "same workload"
// means the same selector string, or selectors where one's text contains the other's and some
// pod matches both. A Gateway whose selector relates to no other server entry is reported as a
// selector that matches nothing (IST0101).
#include <algorithm>
#include <map>
#include <string>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

using HostsBind = std::map<std::string, std::string, std::less<>>;  // host -> bind
// (selector string, port) -> gateway full name -> hosts of its server on that port.
using GatewayIndex = std::map<std::pair<std::string, std::string>, std::map<std::string, HostsBind>>;

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

std::string portOf(const core::Node* server) {
  const core::Node* port = server->get("port");
  const core::Node* number = port ? port->get("number") : nullptr;
  return std::to_string(number && number->asInt() ? *number->asInt() : 0);
}

std::string_view textOf(const core::Node* n) { return n && n->isScalar() ? n->text() : std::string_view(); }

std::vector<std::string_view> hostsOf(const core::Node* server) {
  std::vector<std::string_view> out;
  if (const core::Node* hosts = server->get("hosts"))
    for (const core::Node* h : hosts->items()) out.push_back(h->text());
  return out;
}

// The inverse of Selector.String() for plain "k=v,k=v" selectors.
Labels parseSelector(std::string_view s) {
  Labels out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string_view pair = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.find('=', eq + 1) == std::string_view::npos)
      out[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

const core::Node* serversOf(const core::Resource& gw) {
  const core::Node* spec = gw.spec();
  return spec ? spec->get("servers") : nullptr;
}

std::string selectorOf(const core::Resource& gw) {
  const core::Node* spec = gw.spec();
  return LabelSelector::fromSet(spec ? spec->get("selector") : nullptr).toString();
}

class ConflictingGatewayAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"gateway.ConflictingGatewayAnalyzer",
                                    "Checks a gateway's selector, port number and hosts",
                                    {kinds::Gateway, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    GatewayIndex index;
    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) {
      const core::Node* servers = serversOf(*gw);
      if (!servers) continue;
      std::string selector = selectorOf(*gw);
      for (const core::Node* server : servers->items()) {
        HostsBind hb;
        for (std::string_view h : hostsOf(server)) hb[std::string(h)] = std::string(textOf(server->get("bind")));
        index[{selector, portOf(server)}][fullName(*gw)] = std::move(hb);
      }
    }
    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) analyzeGateway(snapshot, *gw, index, reporter);
  }

 private:
  static void analyzeGateway(const Snapshot& snapshot, const core::Resource& gw, const GatewayIndex& index,
                             Reporter& reporter) {
    std::string name = fullName(gw);
    const core::Node* spec = gw.spec();
    const core::Node* selectorNode = spec ? spec->get("selector") : nullptr;
    LabelSelector gwSelector = LabelSelector::fromSet(selectorNode);
    std::string selector = gwSelector.toString();

    std::vector<const GatewayIndex::value_type*> related;
    for (const auto& entry : index) {
      const std::string& other = entry.first.first;
      bool matched = other == selector;
      if (!matched && (other.find(selector) != std::string::npos || selector.find(other) != std::string::npos)) {
        LabelSelector otherSelector = LabelSelector::fromSet(parseSelector(other));
        for (const core::Resource* pod : snapshot.all(kinds::Pod)) {
          Labels labels = labelsOf(*pod);
          if (gwSelector.matches(labels) && otherSelector.matches(labels)) {
            matched = true;
            break;
          }
        }
      }
      if (matched) related.push_back(&entry);
    }
    if (!selector.empty() && related.empty()) {
      reporter.report(messageType("ReferencedResourceNotFound"), gw, {std::string("selector"), selector}, selectorNode);
      return;
    }

    const core::Node* servers = serversOf(gw);
    if (!servers) return;
    for (const core::Node* server : servers->items()) {
      std::string port = portOf(server);
      std::string_view bind = textOf(server->get("bind"));
      std::vector<std::string_view> hosts = hostsOf(server);
      std::vector<std::string> conflicts;
      for (const auto* entry : related) {
        if (entry->first.second != port) continue;
        for (const auto& [otherName, known] : entry->second) {
          if (otherName == name) continue;
          // pilot's CheckDuplicates: a host already known with the same bind.
          bool duplicate = false;
          for (std::string_view h : hosts) {
            auto it = known.find(h);
            if (it != known.end() && it->second == bind) duplicate = true;
          }
          if (duplicate) conflicts.push_back(otherName);
        }
      }
      if (conflicts.empty()) continue;
      std::sort(conflicts.begin(), conflicts.end());
      reporter.report(messageType("ConflictingGateways"), gw,
                      {join(conflicts), selector, port, join(std::vector<std::string>(hosts.begin(), hosts.end()))},
                      server);
    }
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out;
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewayConflictingGatewayAnalyzer() {
  return std::make_unique<ConflictingGatewayAnalyzer>();
}

}  // namespace mesh::analysis
