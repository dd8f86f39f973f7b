#include "controlplane/model/service_targets.h"

#include <algorithm>

namespace mesh::model {

std::vector<ServiceTarget> serviceTargets(const ConfigSnapshot& snapshot, const Proxy& proxy) {
  std::vector<ServiceTarget> out;
  const ServiceRegistry& reg = snapshot.registry();
  for (const auto& svc : reg.services()) {
    if (svc->meshExternal) continue;
    for (const ServicePort& sp : svc->ports) {
      for (const Endpoint& ep : reg.endpoints(*svc, sp.port)) {
        bool mine = !ep.workloadName.empty()
                        ? ep.workloadName == proxy.workloadName && ep.namespace_ == proxy.namespace_
                        : std::ranges::find(proxy.ips, ep.address) != proxy.ips.end();
        if (mine) {
          out.push_back(ServiceTarget{svc.get(), &sp, &ep});
          break;
        }
      }
    }
  }
  std::ranges::sort(out, [](const ServiceTarget& a, const ServiceTarget& b) {
    return std::tie(a.endpoint->port, a.service->hostname) < std::tie(b.endpoint->port, b.service->hostname);
  });
  return out;
}

}  // namespace mesh::model
