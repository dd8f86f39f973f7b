// gateway.ConflictingGatewayAnalyzer: two Gateways on the same workload and port that declare
// the same host with the same bind address conflict (IST0145). Following Istio, "same workload"
// means the same selector string, or selectors where one's text contains the other's and some
// pod matches both. A Gateway whose selector relates to no other server entry is reported as a
// selector that matches nothing (IST0101).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

using HostsBind = std::map<std::string, std::string, std::less<>>;  // host -> bind
// selector string -> port -> gateway full name -> hosts of its last server on that port.
using GatewayIndex = std::map<std::string, std::map<std::string, std::map<std::string, HostsBind>>, std::less<>>;
// (selector string, port, host) -> (gateway full name, bind) of the GatewayIndex entries.
using HostIndex = std::map<std::tuple<std::string_view, std::string_view, std::string_view>,
                           std::vector<std::pair<std::string_view, std::string_view>>>;

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

const core::Node* selectorNodeOf(const core::Resource& gw) {
  const core::Node* spec = gw.spec();
  return spec ? spec->get("selector") : nullptr;
}

// Which selector strings contain one another (Istio relates gateways whose selector strings
// do), from every suffix of every string in sorted order: the strings containing s are those
// with a suffix starting with s. Costs the related pairs, not every pair.
class ContainmentIndex {
 public:
  explicit ContainmentIndex(std::vector<std::string> strings)
      : strings_(std::move(strings)), related_(strings_.size()) {
    std::vector<std::pair<std::string_view, size_t>> suffixes;  // (suffix, string)
    for (size_t i = 0; i < strings_.size(); ++i)
      for (size_t p = 0; p <= strings_[i].size(); ++p)
        suffixes.emplace_back(std::string_view(strings_[i]).substr(p), i);
    std::sort(suffixes.begin(), suffixes.end());
    for (size_t i = 0; i < strings_.size(); ++i) {
      std::string_view s = strings_[i];
      for (auto it = std::lower_bound(suffixes.begin(), suffixes.end(), std::pair(s, size_t{0}));
           it != suffixes.end() && it->first.starts_with(s); ++it) {
        related_[i].insert(it->second);
        related_[it->second].insert(i);
      }
    }
  }

  // The strings that contain `s` or that `s` contains (s itself included); `s` must be one of
  // the strings given.
  std::vector<std::string_view> related(std::string_view s) const {
    size_t i = std::lower_bound(strings_.begin(), strings_.end(), s) - strings_.begin();
    std::vector<std::string_view> out;
    for (size_t j : related_.at(i)) out.push_back(strings_[j]);
    return out;
  }

 private:
  std::vector<std::string> strings_;  // sorted, distinct
  std::vector<std::set<size_t>> related_;
};

// Whether some pod matches both selectors.
bool selectSamePod(const Snapshot& snapshot, const LabelSelector& a, const LabelSelector& b) {
  auto fromA = podCandidates(snapshot, a), fromB = podCandidates(snapshot, b);
  for (const core::Resource* pod : fromA.size() <= fromB.size() ? fromA : fromB)
    if (a.matches(*pod) && b.matches(*pod)) return true;
  return false;
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
    std::set<std::string> selectors;  // of every Gateway, with servers or not
    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) {
      std::string selector = LabelSelector::fromSet(selectorNodeOf(*gw)).toString();
      selectors.insert(selector);
      const core::Node* servers = serversOf(*gw);
      if (!servers) continue;
      for (const core::Node* server : servers->items()) {
        HostsBind hb;
        for (std::string_view h : hostsOf(server)) hb[std::string(h)] = std::string(textOf(server->get("bind")));
        index[selector][portOf(server)][fullName(*gw)] = std::move(hb);
      }
    }
    HostIndex byHost;
    for (const auto& [selector, ports] : index)
      for (const auto& [port, gateways] : ports)
        for (const auto& [name, hostsBind] : gateways)
          for (const auto& [host, bind] : hostsBind) byHost[{selector, port, host}].emplace_back(name, bind);
    ContainmentIndex containment(std::vector<std::string>(selectors.begin(), selectors.end()));

    // The indexed selector strings related to a gateway selector; Gateways often share one.
    std::map<Labels, std::vector<std::string_view>> relatedBySelector;
    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) {
      Labels labels = labelsFrom(selectorNodeOf(*gw));
      auto [related, added] = relatedBySelector.try_emplace(labels);
      if (added) related->second = relatedSelectors(snapshot, LabelSelector::fromSet(labels), index, containment);
      analyzeGateway(*gw, related->second, byHost, reporter);
    }
  }

 private:
  // Following Istio, the selector strings of the index that are `gwSelector`'s own, or that
  // contain it or are contained in it when some pod matches both.
  static std::vector<std::string_view> relatedSelectors(const Snapshot& snapshot, const LabelSelector& gwSelector,
                                                        const GatewayIndex& index,
                                                        const ContainmentIndex& containment) {
    std::string selector = gwSelector.toString();
    std::vector<std::string_view> out;
    for (std::string_view other : containment.related(selector)) {
      if (!index.contains(other)) continue;
      if (other == selector || selectSamePod(snapshot, gwSelector, LabelSelector::fromSet(parseSelector(other))))
        out.push_back(other);
    }
    return out;
  }

  static void analyzeGateway(const core::Resource& gw, const std::vector<std::string_view>& related,
                             const HostIndex& byHost, Reporter& reporter) {
    std::string name = fullName(gw);
    const core::Node* selectorNode = selectorNodeOf(gw);
    std::string selector = LabelSelector::fromSet(selectorNode).toString();
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
      // pilot's CheckDuplicates: another gateway on a related selector and the same port that
      // already has one of the hosts with the same bind.
      std::set<std::string_view> conflicts;
      for (std::string_view other : related)
        for (std::string_view h : hosts)
          if (auto known = byHost.find({other, port, h}); known != byHost.end())
            for (const auto& [otherName, otherBind] : known->second)
              if (otherName != name && otherBind == bind) conflicts.insert(otherName);
      if (conflicts.empty()) continue;
      reporter.report(messageType("ConflictingGateways"), gw,
                      {join(conflicts), selector, port, join(std::vector<std::string>(hosts.begin(), hosts.end()))},
                      server);
    }
  }

  template <typename Strings>
  static std::string join(const Strings& items) {
    std::string out;
    for (const auto& item : items) {
      if (!out.empty()) out += ",";
      out += item;
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewayConflictingGatewayAnalyzer() {
  return std::make_unique<ConflictingGatewayAnalyzer>();
}

}  // namespace mesh::analysis
