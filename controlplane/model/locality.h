// Localities as Istio reads them: "region/zone/subzone" of endpoints (Pods by their istio-locality
// label or their Node's topology labels, WorkloadEntries by their `locality` field) and of
// proxies (Istio's setTopologyLabels: the registry's locality of the proxy's own workload, else
// its topology labels, else the xDS node's locality). Stateless or immutable once built; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "controlplane/model/config_snapshot.h"

namespace mesh::model {

inline constexpr std::string_view kLabelTopologyRegion = "topology.kubernetes.io/region";
inline constexpr std::string_view kLabelTopologyZone = "topology.kubernetes.io/zone";
inline constexpr std::string_view kLabelTopologySubzone = "topology.istio.io/subzone";
inline constexpr std::string_view kLabelTopologyNetwork = "topology.istio.io/network";
inline constexpr std::string_view kLabelIstioLocality = "istio-locality";  // "region.zone.subzone"

struct Locality {
  std::string region, zone, subzone;

  // "r", "r/z" or "r/z/s" (Istio's SplitLocalityLabel: parts past the third are dropped).
  static Locality parse(std::string_view text);
  // Istio's LocalityToString: "r/z/s", shortened when the zone or subzone is empty.
  std::string str() const;
  bool empty() const { return region.empty() && zone.empty() && subzone.empty(); }
  friend bool operator==(const Locality&, const Locality&) = default;
};

// A pod's locality as Istio's Kubernetes registry computes it: the istio-locality label (dots
// for slashes), else the topology labels of the Node it runs on (`nodeLabels`, nullptr when
// unknown), else topology labels the pod carries itself. "" when none says.
std::string podLocality(const Labels& podLabels, const Labels* nodeLabels);

// A label of a workload as Istio's registry augments it (AugmentLabels): each topology label
// comes from its locality's part or its network when that is non-empty; nullopt otherwise.
// The view points into `locality` or `network`.
std::optional<std::string_view> topologyLabel(std::string_view key, const Locality& locality, std::string_view network);

// The locality of every Pod and WorkloadEntry of a snapshot, to find a proxy's own.
class WorkloadLocalities {
 public:
  static WorkloadLocalities build(const ConfigSnapshot& snapshot);
  // The proxy's locality: its workload's (by name and namespace, else by a unique instance
  // IP), else its topology or istio-locality labels, else node.locality.
  Locality proxyLocality(const Proxy& proxy) const;

 private:
  std::map<std::pair<std::string, std::string>, std::string, std::less<>> byName_;  // (ns, name)
  std::map<std::string, std::optional<std::string>, std::less<>> byIp_;  // nullopt: IP shared by several
};

}  // namespace mesh::model
