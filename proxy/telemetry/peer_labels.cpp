#include "proxy/telemetry/peer_labels.h"

#include <vector>

namespace mesh::proxy::telemetry {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

std::string label(const LocalWorkload& w, std::string_view key) {
  auto it = w.labels.find(key);
  return it == w.labels.end() ? std::string() : it->second;
}

}  // namespace

DestinationService serviceFromClusterName(std::string_view clusterName) {
  DestinationService out;
  auto parts = split(clusterName, '|');
  // Istio's cluster names: DIRECTION|PORT|SUBSET|HOST; anything else names itself.
  std::string_view host = parts.size() == 4 ? parts[3] : clusterName;
  if (host.empty()) return out;
  out.host = std::string(host);
  auto labels = split(host, '.');
  if (labels.size() >= 3 && labels[2] == "svc" && !labels[0].empty() && !labels[1].empty()) {
    out.name = std::string(labels[0]);
    out.namespace_ = std::string(labels[1]);
  } else {
    out.name = out.host;
  }
  return out;
}

PeerInfo peerFromWorkloadMetadata(std::string_view workload) {
  PeerInfo p;
  if (workload.empty()) return p;
  auto parts = split(workload, ';');
  auto part = [&](size_t i) { return i < parts.size() ? std::string(parts[i]) : std::string(); };
  p.workload = part(0);
  p.workloadNamespace = part(1);
  p.canonicalService = part(2);
  p.canonicalRevision = part(3);
  p.cluster = part(4);
  p.app = p.canonicalService;
  p.version = p.canonicalRevision;
  return p;
}

PeerInfo localPeer(const LocalWorkload& w) {
  PeerInfo p;
  p.workload = w.name;
  p.workloadNamespace = w.namespace_;
  if (!w.serviceAccount.empty() && !w.namespace_.empty())
    p.principal = "spiffe://" + w.trustDomain + "/ns/" + w.namespace_ + "/sa/" + w.serviceAccount;
  p.app = label(w, "app");
  p.version = label(w, "version");
  p.cluster = w.clusterId;
  // Istio's canonical service: its own label, else app, else the workload name.
  p.canonicalService = label(w, "service.istio.io/canonical-name");
  if (p.canonicalService.empty()) p.canonicalService = p.app.empty() ? w.name : p.app;
  p.canonicalRevision = label(w, "service.istio.io/canonical-revision");
  if (p.canonicalRevision.empty()) p.canonicalRevision = p.version.empty() ? "latest" : p.version;
  return p;
}

}  // namespace mesh::proxy::telemetry
