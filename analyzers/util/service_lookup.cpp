#include "analyzers/util/service_lookup.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kAll = "*";
constexpr std::string_view kLocal = ".";
constexpr std::string_view kExportToAnnotation = "networking.istio.io/exportTo";

std::vector<std::string> splitComma(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string clusterDomainOf(const Snapshot& snapshot) {
  const auto& mc = snapshot.meshConfig();
  if (mc.is_object()) {
    auto it = mc.find("clusterDomain");
    if (it != mc.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return "cluster.local";
}

std::string istioFqdn(std::string_view ns, std::string_view host, std::string_view domain) {
  if (host.starts_with('*') || host.find('.') != std::string_view::npos) return std::string(host);
  return std::string(host) + "." + std::string(ns) + ".svc." + std::string(domain);
}

std::pair<std::string, std::string> resourceNameFromHost(std::string_view defaultNs, std::string_view host) {
  // Istio matches ^(.+)\.(.+)\.svc\.cluster\.local$ with a greedy first group.
  constexpr std::string_view kSuffix = ".svc.cluster.local";
  if (host.size() > kSuffix.size() && host.ends_with(kSuffix)) {
    std::string_view prefix = host.substr(0, host.size() - kSuffix.size());
    for (size_t p = prefix.rfind('.'); p != std::string_view::npos && p > 0; p = prefix.rfind('.', p - 1)) {
      if (p + 1 < prefix.size()) return {std::string(prefix.substr(p + 1)), std::string(prefix.substr(0, p))};
    }
  }
  return {std::string(defaultNs), std::string(host)};
}

std::vector<std::string> stringList(const core::Node* seq) {
  std::vector<std::string> out;
  if (!seq) return out;
  for (const core::Node* n : seq->items()) out.emplace_back(n->text());
  return out;
}

std::string ServiceHostIndex::key(std::string_view scope, std::string_view ns, std::string_view host) const {
  return std::string(scope) + "/" + istioFqdn(ns, host, domain_);
}

void ServiceHostIndex::add(std::string_view scope, std::string_view ns, std::string_view host,
                           const ServiceHostEntry& e) {
  // A later entry for the same scoped host replaces an earlier one, as in Istio's map.
  byScopedHost_.insert_or_assign(key(scope, ns, host), e);
}

ServiceHostIndex::ServiceHostIndex(const Snapshot& snapshot) : domain_(clusterDomainOf(snapshot)) {
  for (const core::Resource* se : snapshot.all(kinds::ServiceEntry)) {
    const core::Node* spec = se->spec();
    if (!spec) continue;
    ServiceHostEntry entry{se, {}, {}};
    if (const core::Node* ports = spec->get("ports"))
      for (const core::Node* p : ports->items())
        entry.ports.push_back(p->get("number") ? p->get("number")->asInt().value_or(0) : 0);
    if (const core::Node* ws = spec->get("workloadSelector")) entry.workloadSelector = labelsFrom(ws->get("labels"));
    std::vector<std::string> exportTo = stringList(spec->get("exportTo"));
    std::string_view ns = se->namespace_();
    // Once "*" has been seen, later hosts are only exported to all (Istio's loop does this).
    bool toAll = exportTo.empty();
    for (const std::string& h : stringList(spec->get("hosts"))) {
      if (toAll) {
        add(kAll, ns, h, entry);
        continue;
      }
      for (const std::string& e : exportTo) {
        if (e == kAll) {
          add(kAll, ns, h, entry);
          toAll = true;
          break;
        }
        add(e == kLocal ? ns : std::string_view(e), ns, h, entry);
      }
    }
  }
  for (const core::Resource* svc : snapshot.all(kinds::Service)) {
    ServiceHostEntry entry{svc, {}, {}};
    if (const core::Node* spec = svc->spec())
      if (const core::Node* ports = spec->get("ports"))
        for (const core::Node* p : ports->items())
          entry.ports.push_back(p->get("port") ? p->get("port")->asInt().value_or(0) : 0);
    std::string_view anno = svc->annotation(kExportToAnnotation);
    std::vector<std::string> scopes = anno.empty() ? std::vector<std::string>{std::string(kAll)} : splitComma(anno);
    for (std::string& s : scopes)
      if (s == kLocal) s = std::string(svc->namespace_());
    for (const std::string& s : scopes) add(s, svc->namespace_(), svc->name(), entry);
  }
}

const ServiceHostEntry* ServiceHostIndex::lookup(std::string_view sourceNs, const std::vector<std::string>& exportTo,
                                                 std::string_view host) const {
  auto find = [&](std::string_view scope) -> const ServiceHostEntry* {
    auto it = byScopedHost_.find(key(scope, sourceNs, host));
    return it == byScopedHost_.end() ? nullptr : &it->second;
  };
  if (const auto* e = find(kAll)) return e;
  if (exportTo.empty()) {
    if (const auto* e = find(sourceNs)) return e;
  } else {
    for (const std::string& e : exportTo)
      if (const auto* found = find(e == kLocal ? sourceNs : std::string_view(e))) return found;
  }
  // Wildcard entries visible to sourceNs: "*x" matches a host (without its own '*') ending in
  // x. Istio scans every entry and takes the first in key order; looking up "scope/*" + each
  // suffix of the host finds the same entries without the scan. (The scan reads a key's scope
  // up to its first '/', so a namespace containing '/' never matched.)
  std::string_view bare = host.starts_with('*') ? host.substr(1) : host;
  const std::string* firstKey = nullptr;
  const ServiceHostEntry* first = nullptr;
  for (std::string_view scope : {kAll, sourceNs}) {
    if (scope.find('/') != std::string_view::npos) continue;
    std::string wildcard = std::string(scope) + "/*";
    for (size_t p = 0; p <= bare.size(); ++p) {
      auto it = byScopedHost_.find(wildcard + std::string(bare.substr(p)));
      if (it != byScopedHost_.end() && (!firstKey || it->first < *firstKey)) {
        firstKey = &it->first;
        first = &it->second;
      }
    }
  }
  return first;
}

}  // namespace mesh::analysis
