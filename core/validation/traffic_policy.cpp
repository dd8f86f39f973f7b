// DestinationRule traffic policies (validateTrafficPolicy and what it calls in Istio), also used
// by Sidecar connection pools and by route destinations.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/validation/duration.h"
#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"

namespace mesh::core::validation {
namespace {

void nonNegative(const Node* m, std::string_view name, const std::string& path, ValidationContext& ctx) {
  const Node* v = field(m, name);
  if (auto n = intOf(v); n && *n < 0) ctx.error(v, sub(path, name), fmt::format("{} must not be negative", name));
}

void durationField(const Node* m, std::string_view name, const std::string& path, ValidationContext& ctx) {
  checkIstioDuration(field(m, name), sub(path, name), ctx);
}

void checkOutlierDetection(const Node* od, const std::string& path, ValidationContext& ctx) {
  if (!isMap(od)) return;
  durationField(od, "baseEjectionTime", path, ctx);
  durationField(od, "interval", path, ctx);
  if (field(od, "consecutiveErrors"))
    ctx.warning(field(od, "consecutiveErrors"), sub(path, "consecutiveErrors"),
                "consecutiveErrors is deprecated: use consecutiveGatewayErrors or consecutive5xxErrors");
  const Node* split = field(od, "splitExternalLocalOriginErrors");
  const Node* local = field(od, "consecutiveLocalOriginFailures");
  if (intOf(local).value_or(0) > 0 && !(split && split->asBool().value_or(false)))
    ctx.error(local, sub(path, "consecutiveLocalOriginFailures"),
              "consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors: true");
  checkPercentInt(field(od, "maxEjectionPercent"), sub(path, "maxEjectionPercent"), ctx);
  checkPercentInt(field(od, "minHealthPercent"), sub(path, "minHealthPercent"), ctx);
}

bool isPrime(int64_t x) {
  if (x < 2) return false;
  if (x < 4) return true;
  if (x % 2 == 0) return false;
  for (int64_t f = 3; f * f <= x; f += 2)
    if (x % f == 0) return false;
  return true;
}

void checkLocalities(std::span<const std::pair<const Node*, std::string>> localities, ValidationContext& ctx) {
  std::set<std::string_view> seen;
  for (const auto& [node, path] : localities) {
    auto loc = stringOf(node);
    if (!loc) continue;
    size_t stars = std::count(loc->begin(), loc->end(), '*');
    if (stars > 1 || (stars == 1 && !loc->ends_with("*")))
      ctx.error(node, path, fmt::format("locality {}: a wildcard '*' may only appear once, at the end", *loc));
    if (loc->empty() || loc->find("//") != std::string_view::npos || loc->front() == '/' || loc->back() == '/')
      ctx.error(node, path, fmt::format("locality \"{}\" must not have an empty region, zone or subzone", *loc));
    if (!seen.insert(*loc).second) ctx.error(node, path, fmt::format("locality {} is listed twice", *loc));
  }
}

void checkLocalityLb(const Node* lb, bool hasOutlier, const std::string& path, ValidationContext& ctx) {
  if (!isMap(lb)) return;
  auto distribute = items(lb, "distribute");
  auto failover = items(lb, "failover");
  if (!distribute.empty() && !failover.empty()) {
    ctx.error(lb, path, "distribute and failover cannot both be set");
    return;
  }
  std::vector<std::pair<const Node*, std::string>> from;
  for (size_t i = 0; i < distribute.size(); ++i) {
    std::string dp = at(sub(path, "distribute"), i);
    if (const Node* f = field(distribute[i], "from")) from.emplace_back(f, sub(dp, "from"));
    int64_t total = 0;
    std::vector<std::pair<const Node*, std::string>> to;
    for (const auto& e : entries(distribute[i], "to")) {
      auto w = intOf(e.value);
      if (w && (*w < 1 || *w > 100))
        ctx.error(e.value, keyed(sub(dp, "to"), e.key->text()), fmt::format("locality weight {} is out of range 1..100", *w));
      total += w.value_or(0);
      to.emplace_back(e.key, sub(dp, "to"));
    }
    if (field(distribute[i], "to") && total != 100)
      ctx.error(field(distribute[i], "to"), sub(dp, "to"), fmt::format("locality weights sum to {}, must be 100", total));
    checkLocalities(to, ctx);
  }
  checkLocalities(from, ctx);
  for (size_t i = 0; i < failover.size(); ++i) {
    std::string fp = at(sub(path, "failover"), i);
    std::string_view f = text(failover[i], "from"), t = text(failover[i], "to");
    if (f == t) ctx.error(failover[i], fp, "failover from and to must name different regions");
    if (f.find('/') != std::string_view::npos || t.find('/') != std::string_view::npos)
      ctx.error(failover[i], fp, "failover names regions only, without zone or subzone");
    if (f.find('*') != std::string_view::npos || t.find('*') != std::string_view::npos)
      ctx.error(failover[i], fp, "failover regions cannot contain a wildcard '*'");
  }
  if (!failover.empty()) {
    for (const Node* p : items(lb, "failoverPriority")) {
      std::string_view l = p->text();
      if (l == "topology.kubernetes.io/region" || l == "topology.kubernetes.io/zone" || l == "topology.istio.io/subzone")
        ctx.error(p, sub(path, "failoverPriority"),
                  fmt::format("failover cannot be combined with topology label {} in failoverPriority", l));
    }
  }
  if ((!failover.empty() || isSet(lb, "failoverPriority")) && !hasOutlier)
    ctx.warning(lb, path, "locality failover needs an outlierDetection policy to take effect");
}

void checkLoadBalancer(const Node* lb, bool hasOutlier, const std::string& path, ValidationContext& ctx) {
  if (!isMap(lb)) return;
  if (const Node* ch = field(lb, "consistentHash")) {
    std::string cp = sub(path, "consistentHash");
    const Node* minRing = field(ch, "minimumRingSize");
    if (minRing) {
      ctx.warning(minRing, sub(cp, "minimumRingSize"), "minimumRingSize is deprecated: use ringHash.minimumRingSize");
      if (field(ch, "ringHash") || field(ch, "maglev"))
        ctx.error(minRing, sub(cp, "minimumRingSize"), "minimumRingSize cannot be combined with ringHash or maglev");
    }
    if (const Node* maglev = field(ch, "maglev")) {
      const Node* size = field(maglev, "tableSize");
      std::string sp = sub(sub(cp, "maglev"), "tableSize");
      auto n = intOf(size);
      if (!size) ctx.error(maglev, sp, "tableSize must be set for maglev");
      else if (n && *n >= 5000011) ctx.error(size, sp, "tableSize must be less than 5000011");
      else if (n && !isPrime(*n)) ctx.error(size, sp, fmt::format("tableSize {} must be a prime number", *n));
    }
  }
  checkLocalityLb(field(lb, "localityLbSetting"), hasOutlier, sub(path, "localityLbSetting"), ctx);
  durationField(lb, "warmupDurationSecs", path, ctx);
  if (const Node* w = field(lb, "warmup")) {
    durationField(w, "duration", sub(path, "warmup"), ctx);
    const Node* minP = field(w, "minimumPercent");
    if (auto v = numberOf(minP); v && (*v < 0 || *v > 100))
      ctx.error(minP, sub(sub(path, "warmup"), "minimumPercent"), fmt::format("minimumPercent {} is out of range 0..100", *v));
    const Node* agg = field(w, "aggression");
    if (auto v = numberOf(agg); v && *v < 1)
      ctx.error(agg, sub(sub(path, "warmup"), "aggression"), "aggression must be at least 1");
  }
}

void checkTunnel(const Node* tunnel, const std::string& path, ValidationContext& ctx) {
  if (!isMap(tunnel)) return;
  const Node* proto = field(tunnel, "protocol");
  if (auto p = stringOf(proto); p && *p != "CONNECT" && *p != "POST")
    ctx.error(proto, sub(path, "protocol"), fmt::format("tunnel protocol \"{}\" is not supported: use CONNECT or POST", *p));
  const Node* host = field(tunnel, "targetHost");
  if (auto h = stringOf(host); h && !isIpAddress(*h) && !checkFqdn(*h).empty())
    ctx.error(host, sub(path, "targetHost"), fmt::format("tunnel targetHost \"{}\" must be a valid FQDN or IP address", *h));
  checkPortNumber(field(tunnel, "targetPort"), sub(path, "targetPort"), ctx);
}

void checkPolicyParts(const Node* p, const std::string& path, ValidationContext& ctx) {
  checkOutlierDetection(field(p, "outlierDetection"), sub(path, "outlierDetection"), ctx);
  checkConnectionPool(field(p, "connectionPool"), sub(path, "connectionPool"), ctx);
  checkLoadBalancer(field(p, "loadBalancer"), field(p, "outlierDetection") != nullptr, sub(path, "loadBalancer"), ctx);
  checkClientTls(field(p, "tls"), sub(path, "tls"), ctx);
}

}  // namespace

void checkPercentInt(const Node* node, const std::string& path, ValidationContext& ctx) {
  auto v = intOf(node);
  if (v && (*v < 0 || *v > 100)) ctx.error(node, path, fmt::format("percentage {} is out of range 0..100", *v));
}

void checkPercent(const Node* percent, const std::string& path, ValidationContext& ctx) {
  const Node* value = field(percent, "value");
  auto v = numberOf(value);
  if (!v) return;
  if (std::isnan(*v) || *v < 0 || *v > 100 || (*v > 0 && *v < 0.0001))
    ctx.error(value, sub(path, "value"), fmt::format("percentage {} is out of range: use 0 or 0.0001..100", value->text()));
}

void checkConnectionPool(const Node* pool, const std::string& path, ValidationContext& ctx) {
  if (!isMap(pool)) return;
  const Node* http = field(pool, "http");
  const Node* tcp = field(pool, "tcp");
  if (!http && !tcp) {
    ctx.error(pool, path, "connection pool must set tcp or http");
    return;
  }
  if (http) {
    std::string hp = sub(path, "http");
    for (std::string_view f : {"http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries",
                               "maxConcurrentStreams"})
      nonNegative(http, f, hp, ctx);
    durationField(http, "idleTimeout", hp, ctx);
    const Node* useClient = field(http, "useClientProtocol");
    if (text(http, "h2UpgradePolicy") == "UPGRADE" && useClient && useClient->asBool().value_or(false))
      ctx.error(useClient, sub(hp, "useClientProtocol"), "useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE");
  }
  if (tcp) {
    std::string tp = sub(path, "tcp");
    nonNegative(tcp, "maxConnections", tp, ctx);
    durationField(tcp, "connectTimeout", tp, ctx);
    durationField(tcp, "maxConnectionDuration", tp, ctx);
    durationField(tcp, "idleTimeout", tp, ctx);
    if (const Node* ka = field(tcp, "tcpKeepalive")) {
      durationField(ka, "time", sub(tp, "tcpKeepalive"), ctx);
      durationField(ka, "interval", sub(tp, "tcpKeepalive"), ctx);
    }
  }
}

void checkTrafficPolicy(const Node* policy, const std::string& path, ValidationContext& ctx) {
  if (!isMap(policy)) return;
  static constexpr std::string_view kParts[] = {"outlierDetection", "connectionPool", "loadBalancer", "tls",
                                                "portLevelSettings", "tunnel", "proxyProtocol"};
  bool any = false;
  for (auto p : kParts) any = any || field(policy, p);
  if (!any) {
    ctx.error(policy, path, "traffic policy must set at least one field");
    return;
  }
  if (field(policy, "tunnel") && field(policy, "proxyProtocol"))
    ctx.error(field(policy, "proxyProtocol"), sub(path, "proxyProtocol"), "tunnel and proxyProtocol cannot both be set");
  checkPolicyParts(policy, path, ctx);
  checkTunnel(field(policy, "tunnel"), sub(path, "tunnel"), ctx);
  auto ports = items(policy, "portLevelSettings");
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string pp = at(sub(path, "portLevelSettings"), i);
    const Node* p = ports[i];
    if (!isMap(p)) continue;
    if (!field(p, "port")) ctx.error(p, sub(pp, "port"), "required field is missing");
    else checkPortNumber(field(field(p, "port"), "number"), sub(sub(pp, "port"), "number"), ctx);
    if (!field(p, "outlierDetection") && !field(p, "connectionPool") && !field(p, "loadBalancer") && !field(p, "tls")) {
      ctx.error(p, pp, "port traffic policy must set at least one of loadBalancer, connectionPool, outlierDetection or tls");
      continue;
    }
    checkPolicyParts(p, pp, ctx);
  }
}

void checkDestination(const Node* destination, const std::string& path, ValidationContext& ctx) {
  if (!isMap(destination)) return;
  const Node* host = field(destination, "host");
  if (auto h = stringOf(host)) {
    if (*h == "*") {
      ctx.error(host, sub(path, "host"), "destination host cannot be \"*\"");
    } else {
      std::string err = checkWildcardDomain(*h);
      if (!err.empty()) ctx.error(host, sub(path, "host"), err);
    }
  }
  const Node* subset = field(destination, "subset");
  if (auto s = stringOf(subset); s && !isDns1123Label(*s))
    ctx.error(subset, sub(path, "subset"), fmt::format("invalid subset name \"{}\": use a DNS label", *s));
  if (const Node* port = field(destination, "port"))
    checkPortNumber(field(port, "number") ? field(port, "number") : port, sub(sub(path, "port"), "number"), ctx);
}

}  // namespace mesh::core::validation
