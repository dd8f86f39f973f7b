#include "controlplane/model/locality.h"

#include <algorithm>

#include "controlplane/model/node_values.h"

namespace mesh::model {
namespace {

std::string_view labelOf(const Labels& labels, std::string_view key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string_view() : std::string_view(it->second);
}

// Topology labels of a Node (GA names first, then the deprecated beta ones, as Istio reads
// them) or of a pod carrying them itself.
Locality fromTopologyLabels(const Labels& labels) {
  Locality l;
  l.region = std::string(labelOf(labels, kLabelTopologyRegion));
  if (l.region.empty()) l.region = std::string(labelOf(labels, "failure-domain.beta.kubernetes.io/region"));
  l.zone = std::string(labelOf(labels, kLabelTopologyZone));
  if (l.zone.empty()) l.zone = std::string(labelOf(labels, "failure-domain.beta.kubernetes.io/zone"));
  l.subzone = std::string(labelOf(labels, kLabelTopologySubzone));
  return l;
}

std::string fromIstioLocalityLabel(std::string_view value) {
  std::string out(value);
  std::ranges::replace(out, '.', '/');
  return out;
}

}  // namespace

Locality Locality::parse(std::string_view text) {
  Locality l;
  std::string* parts[] = {&l.region, &l.zone, &l.subzone};
  for (std::string* part : parts) {
    auto slash = text.find('/');
    *part = std::string(text.substr(0, slash));
    if (slash == std::string_view::npos) break;
    text.remove_prefix(slash + 1);
  }
  return l;
}

std::string Locality::str() const {
  std::string out = region;
  if (zone.empty()) return out;
  out += "/" + zone;
  if (subzone.empty()) return out;
  return out + "/" + subzone;
}

std::string podLocality(const Labels& podLabels, const Labels* nodeLabels) {
  if (std::string_view l = labelOf(podLabels, kLabelIstioLocality); !l.empty()) return fromIstioLocalityLabel(l);
  if (nodeLabels) {
    Locality l = fromTopologyLabels(*nodeLabels);
    if (!l.empty()) return l.str();
  }
  return fromTopologyLabels(podLabels).str();
}

std::optional<std::string_view> topologyLabel(std::string_view key, const Locality& locality,
                                              std::string_view network) {
  if (key == kLabelTopologyRegion && !locality.region.empty()) return std::string_view(locality.region);
  if (key == kLabelTopologyZone && !locality.zone.empty()) return std::string_view(locality.zone);
  if (key == kLabelTopologySubzone && !locality.subzone.empty()) return std::string_view(locality.subzone);
  if (key == kLabelTopologyNetwork && !network.empty()) return network;
  return std::nullopt;
}

WorkloadLocalities WorkloadLocalities::build(const ConfigSnapshot& snapshot) {
  WorkloadLocalities out;
  auto add = [&](std::string_view ns, std::string_view name, std::string_view ip, std::string locality) {
    if (!ip.empty()) {
      auto [it, inserted] = out.byIp_.try_emplace(std::string(ip), locality);
      if (!inserted && it->second != locality) it->second = std::nullopt;
    }
    out.byName_.insert_or_assign({std::string(ns), std::string(name)}, std::move(locality));
  };
  std::map<std::string_view, Labels, std::less<>> nodes;
  for (const core::Resource* n : snapshot.ofKind("", "Node")) nodes.emplace(n->name(), labelsFrom(n->labels()));
  for (const core::Resource* pod : snapshot.ofKind("", "Pod")) {
    auto node = nodes.find(text(pod->spec(), "nodeName"));
    add(pod->namespace_(), pod->name(), text(pod->root().get("status"), "podIP"),
        podLocality(labelsFrom(pod->labels()), node == nodes.end() ? nullptr : &node->second));
  }
  for (const core::Resource* we : snapshot.ofKind("networking.istio.io", "WorkloadEntry"))
    add(we->namespace_(), we->name(), text(we->spec(), "address"), std::string(text(we->spec(), "locality")));
  return out;
}

Locality WorkloadLocalities::proxyLocality(const Proxy& proxy) const {
  if (auto it = byName_.find(std::pair(proxy.namespace_, proxy.workloadName)); it != byName_.end()) {
    if (!it->second.empty()) return Locality::parse(it->second);
  } else {
    for (const std::string& ip : proxy.ips) {
      auto at = byIp_.find(ip);
      if (at != byIp_.end() && at->second && !at->second->empty()) return Locality::parse(*at->second);
    }
  }
  if (Locality l = fromTopologyLabels(proxy.labels); !l.empty()) return l;
  if (std::string_view l = labelOf(proxy.labels, kLabelIstioLocality); !l.empty())
    return Locality::parse(fromIstioLocalityLabel(l));
  return Locality::parse(proxy.locality);
}

}  // namespace mesh::model
