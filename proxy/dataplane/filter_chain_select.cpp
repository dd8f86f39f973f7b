// Envoy's filter chain match: see filter_chain_select.h.
#include "proxy/dataplane/filter_chain_select.h"

#include <algorithm>

namespace mesh::proxy::dataplane {

namespace {

using Chains = std::vector<const FilterChain*>;

// Keeps the chains with the best score; score < 0 means "does not match", 0 "matches by
// having no criterion".
template <class Score>
Chains keepBest(const Chains& in, Score score) {
  Chains out;
  long best = -1;
  for (const FilterChain* c : in) {
    long s = score(*c);
    if (s < 0) continue;
    if (s > best) {
      best = s;
      out.clear();
    }
    if (s == best) out.push_back(c);
  }
  return out;
}

long cidrScore(const std::vector<CidrRange>& ranges, const std::string& ip) {
  if (ranges.empty()) return 0;
  long best = -1;
  for (const auto& r : ranges) {
    if (r.contains(ip)) best = std::max<long>(best, r.prefixLen + 1);
  }
  return best;
}

}  // namespace

const FilterChain* selectFilterChain(const Listener& listener, const ConnectionInfo& conn) {
  Chains chains;
  for (const auto& c : listener.filterChains) chains.push_back(c.get());
  chains = keepBest(chains, [&](const FilterChain& c) -> long {
    if (!c.match.destinationPort) return 0;
    return *c.match.destinationPort == conn.destinationPort ? 1 : -1;
  });
  chains = keepBest(chains, [&](const FilterChain& c) { return cidrScore(c.match.prefixRanges, conn.destinationAddress); });
  chains = keepBest(chains, [&](const FilterChain& c) -> long {
    if (c.match.serverNames.empty()) return 0;
    long best = -1;
    for (const auto& name : c.match.serverNames) {
      if (name == conn.serverName) return 1'000'000;
      if (name.size() > 1 && name.front() == '*' && conn.serverName.size() > name.size() - 1 &&
          conn.serverName.ends_with(name.substr(1))) {
        best = std::max<long>(best, static_cast<long>(name.size()));
      }
    }
    return best;
  });
  chains = keepBest(chains, [&](const FilterChain& c) -> long {
    if (c.match.transportProtocol.empty()) return 0;
    return c.match.transportProtocol == conn.transportProtocol ? 1 : -1;
  });
  chains = keepBest(chains, [&](const FilterChain& c) -> long {
    if (c.match.applicationProtocols.empty()) return 0;
    for (const auto& p : c.match.applicationProtocols) {
      if (std::find(conn.applicationProtocols.begin(), conn.applicationProtocols.end(), p) !=
          conn.applicationProtocols.end()) {
        return 1;
      }
    }
    return -1;
  });
  chains = keepBest(chains, [&](const FilterChain& c) { return cidrScore(c.match.sourcePrefixRanges, conn.sourceAddress); });
  chains = keepBest(chains, [&](const FilterChain& c) -> long {
    if (c.match.sourcePorts.empty()) return 0;
    return std::find(c.match.sourcePorts.begin(), c.match.sourcePorts.end(), conn.sourcePort) !=
                   c.match.sourcePorts.end()
               ? 1
               : -1;
  });
  if (!chains.empty()) return chains.front();
  return listener.defaultFilterChain.get();
}

}  // namespace mesh::proxy::dataplane
