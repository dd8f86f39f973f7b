#include "controlplane/model/service_registry.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "controlplane/model/locality.h"
#include "controlplane/model/node_values.h"

namespace mesh::model {
namespace {

using core::Node;
using core::Resource;

// Istio's exportTo annotation on Kubernetes Services ("a,b").
std::vector<std::string> splitCommaList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

bool selectorMatches(const Labels& selector, const Labels& labels) {
  if (selector.empty()) return false;  // a Service without selector selects nothing by labels
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// A pod's container port by name, for string targetPorts.
std::optional<uint32_t> podContainerPort(const Resource& pod, std::string_view portName) {
  const Node* spec = pod.spec();
  for (const Node* c : items(spec ? spec->get("containers") : nullptr))
    for (const Node* p : items(c->get("ports")))
      if (text(p, "name") == portName) {
        if (auto n = uint32At(p, "containerPort")) return n;
      }
  return std::nullopt;
}

Endpoint endpointAt(std::string_view address, uint32_t port, std::string_view ns) {
  Endpoint ep;
  ep.address = std::string(address);
  ep.port = port;
  ep.namespace_ = std::string(ns);
  return ep;
}

// Istio's security.istio.io/tlsMode label: sidecar injection sets it to "istio" on pods.
constexpr std::string_view kTlsModeLabel = "security.istio.io/tlsMode";

bool labelledIstioMutual(const Labels& labels) {
  auto it = labels.find(std::string(kTlsModeLabel));
  return it != labels.end() && it->second == "istio";
}

struct KubeTargetPort {
  std::optional<uint32_t> number;
  std::string name;
};

}  // namespace

class RegistryBuilder {
 public:
  RegistryBuilder(ServiceRegistry& reg, std::span<const Resource> resources, std::string_view domain)
      : reg_(reg), domain_(domain) {
    for (const Resource& r : resources) {
      std::string_view g = r.group(), k = r.kind();
      if (g.empty() && k == "Service") kubeServices_.push_back(&r);
      else if (g.empty() && k == "Pod") podsByNs_[std::string(r.namespace_())].push_back(&r);
      else if (g.empty() && k == "Node") nodeLabels_.emplace(r.name(), labelsFrom(r.labels()));
      else if (g == "discovery.k8s.io" && k == "EndpointSlice") {
        std::string svc(r.label("kubernetes.io/service-name"));
        if (!svc.empty()) slices_[{std::string(r.namespace_()), svc}].push_back(&r);
      } else if (g == "networking.istio.io" && k == "ServiceEntry") serviceEntries_.push_back(&r);
      else if (g == "networking.istio.io" && k == "WorkloadEntry")
        workloadEntriesByNs_[std::string(r.namespace_())].push_back(&r);
    }
  }

  void run() {
    // A Service that several clusters declare (multi-primary: the config store lists every
    // cluster's objects, the primary's first) is one service, as Istio merges them by hostname:
    // the first declaration defines its ports, and the EndpointSlices and Pods of every cluster
    // give its endpoints.
    std::set<std::pair<std::string_view, std::string_view>> declared;
    for (const Resource* r : kubeServices_)
      if (declared.emplace(r->namespace_(), r->name()).second) addKubeService(*r);
    for (const Resource* r : serviceEntries_) addServiceEntry(*r);
    std::ranges::sort(reg_.services_, [](const auto& a, const auto& b) {
      return std::tie(a->hostname, a->namespace_) < std::tie(b->hostname, b->namespace_);
    });
    for (const auto& s : reg_.services_) reg_.byHost_.emplace(s->hostname, s.get());
    for (auto& [key, eps] : reg_.endpoints_)
      std::ranges::sort(eps, [](const Endpoint& a, const Endpoint& b) {
        return std::tie(a.address, a.port, a.workloadName) < std::tie(b.address, b.port, b.workloadName);
      });
  }

 private:
  Service& newService(const Resource& r) {
    reg_.services_.push_back(std::make_unique<Service>());
    Service& s = *reg_.services_.back();
    s.namespace_ = std::string(r.namespace_());
    s.name = std::string(r.name());
    s.origin = &r;
    return s;
  }

  void addKubeService(const Resource& r) {
    const Node* spec = r.spec();
    Service& svc = newService(r);
    svc.hostname = fmt::format("{}.{}.svc.{}", r.name(), r.namespace_(), domain_);
    svc.exportTo = splitCommaList(r.annotation("networking.istio.io/exportTo"));
    std::string_view clusterIp = text(spec, "clusterIP");
    if (!clusterIp.empty() && clusterIp != "None") svc.address = std::string(clusterIp);
    bool externalName = text(spec, "type") == "ExternalName";
    if (externalName) {
      svc.resolution = Resolution::Dns;
      svc.meshExternal = true;
    } else if (clusterIp == "None") {
      svc.resolution = Resolution::Passthrough;  // headless: clients dial pod IPs directly
    }
    Labels selector = labelsFrom(spec ? spec->get("selector") : nullptr);
    std::vector<KubeTargetPort> targets;
    for (const Node* p : items(spec ? spec->get("ports") : nullptr)) {
      ServicePort sp;
      sp.name = std::string(text(p, "name"));
      sp.port = uint32At(p, "port").value_or(0);
      if (sp.port == 0) continue;
      sp.protocol = text(p, "protocol") == "UDP" ? Protocol::Udp : protocolOfKubePort(sp.name, text(p, "appProtocol"));
      KubeTargetPort t;
      if (const Node* tp = p->get("targetPort")) {
        if (auto n = tp->asInt()) t.number = static_cast<uint32_t>(*n);
        else t.name = std::string(tp->text());
      }
      if (!t.number && t.name.empty()) t.number = sp.port;
      svc.ports.push_back(std::move(sp));
      targets.push_back(std::move(t));
    }
    if (externalName) {
      for (const ServicePort& sp : svc.ports)
        addEndpoint(svc, sp, endpointAt(text(spec, "externalName"), sp.port, svc.namespace_));
      return;
    }
    auto sliceIt = slices_.find({svc.namespace_, svc.name});
    if (sliceIt != slices_.end()) {
      addSliceEndpoints(svc, sliceIt->second);
      return;
    }
    for (const Resource* pod : podsOf(svc.namespace_)) {
      Labels labels = labelsFrom(pod->labels());
      if (!selectorMatches(selector, labels)) continue;
      const Node* status = pod->root().get("status");
      std::string_view ip = text(status, "podIP");
      if (ip.empty()) continue;  // not scheduled yet: nothing to route to
      for (size_t i = 0; i < svc.ports.size(); ++i) {
        std::optional<uint32_t> port = targets[i].number;
        if (!port) port = podContainerPort(*pod, targets[i].name);
        if (!port) continue;
        Endpoint ep = workloadEndpoint(*pod, labels, ip, *port);
        ep.serviceAccount = std::string(text(pod->spec(), "serviceAccountName"));
        if (ep.serviceAccount.empty()) ep.serviceAccount = "default";
        ep.locality = podLocalityOf(*pod, labels);
        ep.healthy = podReady(status);
        addEndpoint(svc, svc.ports[i], std::move(ep));
      }
    }
    // Istio also selects WorkloadEntries with a Service's selector (VMs behind a Service).
    for (const Resource* we : workloadEntriesOf(svc.namespace_)) {
      Labels labels = labelsFrom(we->spec() ? we->spec()->get("labels") : nullptr);
      if (!selectorMatches(selector, labels)) continue;
      for (size_t i = 0; i < svc.ports.size(); ++i)
        addWorkloadEntry(svc, svc.ports[i], *we->spec(), we->name(), svc.namespace_,
                         targets[i].number.value_or(svc.ports[i].port));
    }
  }

  static bool podReady(const Node* status) {
    if (!status) return true;
    std::string_view phase = text(status, "phase");
    if (!phase.empty() && phase != "Running") return false;
    for (const Node* c : items(status->get("conditions")))
      if (text(c, "type") == "Ready") return text(c, "status") == "True";
    return true;
  }

  static Endpoint workloadEndpoint(const Resource& r, Labels labels, std::string_view ip, uint32_t port) {
    Endpoint ep = endpointAt(ip, port, r.namespace_());
    ep.labels = std::move(labels);
    ep.istioMutualCapable = labelledIstioMutual(ep.labels);
    ep.workloadName = std::string(r.name());
    return ep;
  }

  void addSliceEndpoints(Service& svc, const std::vector<const Resource*>& slices) {
    for (const Resource* slice : slices) {
      const Node& root = slice->root();
      for (const Node* e : items(root.get("endpoints"))) {
        const Node* cond = e->get("conditions");
        bool ready = !cond || !cond->get("ready") || cond->get("ready")->asBool().value_or(true);
        const Resource* pod = nullptr;
        if (const Node* ref = e->get("targetRef"); ref && text(ref, "kind") == "Pod")
          pod = findPod(svc.namespace_, text(ref, "name"));
        for (const Node* a : items(e->get("addresses"))) {
          for (const Node* p : items(root.get("ports"))) {
            const ServicePort* sp = svc.portNamed(text(p, "name"));
            if (!sp) continue;
            Endpoint ep = endpointAt(a->text(), uint32At(p, "port").value_or(sp->port), svc.namespace_);
            ep.healthy = ready;
            if (pod) {
              ep.labels = labelsFrom(pod->labels());
              ep.istioMutualCapable = labelledIstioMutual(ep.labels);
              ep.workloadName = std::string(pod->name());
              ep.serviceAccount = std::string(text(pod->spec(), "serviceAccountName"));
              if (ep.serviceAccount.empty()) ep.serviceAccount = "default";
              ep.locality = podLocalityOf(*pod, ep.labels);
            }
            if (std::string_view zone = text(e, "zone"); !zone.empty() && ep.locality.empty())
              ep.locality = fmt::format("/{}", zone);
            addEndpoint(svc, *sp, std::move(ep));
          }
        }
      }
    }
  }

  void addServiceEntry(const Resource& r) {
    const Node* spec = r.spec();
    if (!spec) return;
    std::vector<ServicePort> ports;
    std::vector<uint32_t> targetPorts;
    for (const Node* p : items(spec->get("ports"))) {
      ServicePort sp;
      sp.name = std::string(text(p, "name"));
      sp.port = uint32At(p, "number").value_or(0);
      sp.protocol = protocolOfName(text(p, "protocol"));
      if (sp.port == 0) continue;
      targetPorts.push_back(uint32At(p, "targetPort").value_or(sp.port));
      ports.push_back(std::move(sp));
    }
    std::string_view resolution = text(spec, "resolution");
    Resolution res = resolution == "DNS"               ? Resolution::Dns
                     : resolution == "DNS_ROUND_ROBIN" ? Resolution::DnsRoundRobin
                     : resolution == "STATIC"          ? Resolution::ClientSideLB
                                                       : Resolution::Passthrough;
    std::vector<std::string> addresses = stringList(spec->get("addresses"));
    Labels selector = labelsFrom(spec->get("workloadSelector") ? spec->get("workloadSelector")->get("labels") : nullptr);
    for (const Node* h : items(spec->get("hosts"))) {
      Service& svc = newService(r);
      svc.hostname = std::string(h->text());
      svc.ports = ports;
      svc.resolution = res;
      svc.meshExternal = text(spec, "location") == "MESH_EXTERNAL";
      svc.fromServiceEntry = true;
      svc.exportTo = stringList(spec->get("exportTo"));
      if (!addresses.empty()) svc.address = addresses.front();
      for (size_t i = 0; i < svc.ports.size(); ++i) {
        const ServicePort& sp = svc.ports[i];
        for (const Node* e : items(spec->get("endpoints")))
          addWorkloadEntry(svc, sp, *e, "", svc.namespace_, targetPorts[i]);
        if (!selector.empty()) {
          for (const Resource* we : workloadEntriesOf(svc.namespace_)) {
            Labels labels = labelsFrom(we->spec() ? we->spec()->get("labels") : nullptr);
            if (selectorMatches(selector, labels))
              addWorkloadEntry(svc, sp, *we->spec(), we->name(), svc.namespace_, targetPorts[i]);
          }
          for (const Resource* pod : podsOf(svc.namespace_)) {
            Labels labels = labelsFrom(pod->labels());
            std::string_view ip = text(pod->root().get("status"), "podIP");
            if (ip.empty() || !selectorMatches(selector, labels)) continue;
            Endpoint ep = workloadEndpoint(*pod, labels, ip, targetPorts[i]);
            ep.locality = podLocalityOf(*pod, ep.labels);
            addEndpoint(svc, sp, std::move(ep));
          }
        }
        // DNS without endpoints: the host itself is the endpoint (Istio's behaviour).
        if ((res == Resolution::Dns || res == Resolution::DnsRoundRobin) && !hasEndpoints(svc, sp.port) &&
            !svc.hostname.starts_with("*"))
          addEndpoint(svc, sp, endpointAt(svc.hostname, targetPorts[i], svc.namespace_));
      }
    }
  }

  // A WorkloadEntry spec (standalone or inline in a ServiceEntry) behind one service port: its
  // `ports` map names the workload port per service port name, else the target port.
  void addWorkloadEntry(Service& svc, const ServicePort& sp, const Node& we, std::string_view name,
                        std::string_view ns, uint32_t targetPort) {
    std::string_view address = text(&we, "address");
    if (address.empty()) return;
    uint32_t port = targetPort;
    if (const Node* ports = we.get("ports"))
      if (auto n = uint32At(ports, sp.name)) port = *n;
    Endpoint ep = endpointAt(address, port, ns);
    ep.labels = labelsFrom(we.get("labels"));
    ep.workloadName = std::string(name);
    ep.serviceAccount = std::string(text(&we, "serviceAccount"));
    ep.locality = std::string(text(&we, "locality"));
    ep.network = std::string(text(&we, "network"));
    ep.weight = uint32At(&we, "weight").value_or(0);
    // Istio's getTLSModeFromWorkloadEntry: the label when present, else a declared service
    // account means the workload runs a mesh proxy.
    ep.istioMutualCapable = ep.labels.contains(std::string(kTlsModeLabel)) ? labelledIstioMutual(ep.labels)
                                                                          : !ep.serviceAccount.empty();
    if (ep.serviceAccount.empty()) ep.serviceAccount = "default";
    addEndpoint(svc, sp, std::move(ep));
  }

  void addEndpoint(Service& svc, const ServicePort& sp, Endpoint ep) {
    ep.servicePortName = sp.name;
    reg_.endpoints_[{&svc, sp.port}].push_back(std::move(ep));
  }

  bool hasEndpoints(const Service& svc, uint32_t port) const {
    auto it = reg_.endpoints_.find({&svc, port});
    return it != reg_.endpoints_.end() && !it->second.empty();
  }

  const std::vector<const Resource*>& podsOf(const std::string& ns) const {
    static const std::vector<const Resource*> kNone;
    auto it = podsByNs_.find(ns);
    return it == podsByNs_.end() ? kNone : it->second;
  }
  const std::vector<const Resource*>& workloadEntriesOf(const std::string& ns) const {
    static const std::vector<const Resource*> kNone;
    auto it = workloadEntriesByNs_.find(ns);
    return it == workloadEntriesByNs_.end() ? kNone : it->second;
  }
  // Istio's getPodLocality: the pod's istio-locality label, else its Node's topology labels.
  std::string podLocalityOf(const Resource& pod, const Labels& labels) const {
    auto node = nodeLabels_.find(text(pod.spec(), "nodeName"));
    return podLocality(labels, node == nodeLabels_.end() ? nullptr : &node->second);
  }

  const Resource* findPod(const std::string& ns, std::string_view name) const {
    for (const Resource* p : podsOf(ns))
      if (p->name() == name) return p;
    return nullptr;
  }

  ServiceRegistry& reg_;
  std::string domain_;
  std::vector<const Resource*> kubeServices_, serviceEntries_;
  std::map<std::string, std::vector<const Resource*>> podsByNs_, workloadEntriesByNs_;
  std::map<std::pair<std::string, std::string>, std::vector<const Resource*>> slices_;
  std::map<std::string_view, Labels, std::less<>> nodeLabels_;  // Node name → labels
};

ServiceRegistry ServiceRegistry::build(std::span<const core::Resource> resources, std::string_view domain) {
  ServiceRegistry reg;
  RegistryBuilder(reg, resources, domain).run();
  return reg;
}

std::vector<const Service*> ServiceRegistry::byHost(std::string_view hostname) const {
  std::vector<const Service*> out;
  auto [lo, hi] = byHost_.equal_range(hostname);
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

const Service* ServiceRegistry::lookup(std::string_view hostname, std::string_view ns) const {
  const Service* visible = nullptr;
  auto [lo, hi] = byHost_.equal_range(hostname);
  for (auto it = lo; it != hi; ++it) {
    if (it->second->namespace_ == ns) return it->second;
    if (!visible && it->second->visibleFrom(ns)) visible = it->second;
  }
  return visible;
}

std::span<const Endpoint> ServiceRegistry::endpoints(const Service& svc, uint32_t port) const {
  auto it = endpoints_.find({&svc, port});
  if (it == endpoints_.end()) return {};
  return it->second;
}

std::set<std::string, std::less<>> ServiceRegistry::hostsWithChangedEndpoints(const ServiceRegistry& before) const {
  std::set<std::string, std::less<>> changed;
  auto same = [](const ServiceRegistry& a, const Service& sa, const ServiceRegistry& b, const Service& sb) {
    if (sa.ports.size() != sb.ports.size()) return false;
    for (size_t i = 0; i < sa.ports.size(); ++i) {
      if (sa.ports[i].port != sb.ports[i].port) return false;
      auto ea = a.endpoints(sa, sa.ports[i].port);
      auto eb = b.endpoints(sb, sb.ports[i].port);
      if (!std::ranges::equal(ea, eb)) return false;
    }
    return true;
  };
  auto find = [](const ServiceRegistry& r, const Service& svc) -> const Service* {
    for (auto [it, end] = r.byHost_.equal_range(svc.hostname); it != end; ++it)
      if (it->second->namespace_ == svc.namespace_) return it->second;
    return nullptr;
  };
  for (const auto& svc : services_) {
    const Service* old = find(before, *svc);
    if (!old || !same(*this, *svc, before, *old)) changed.insert(svc->hostname);
  }
  for (const auto& svc : before.services_)
    if (!find(*this, *svc)) changed.insert(svc->hostname);
  return changed;
}

const ServicePort* Service::port(uint32_t number) const {
  for (const ServicePort& p : ports)
    if (p.port == number) return &p;
  return nullptr;
}

const ServicePort* Service::portNamed(std::string_view portName) const {
  for (const ServicePort& p : ports)
    if (p.name == portName) return &p;
  return nullptr;
}

bool Service::visibleFrom(std::string_view ns) const {
  if (exportTo.empty()) return true;
  for (const std::string& e : exportTo)
    if (e == "*" || (e == "." && ns == namespace_) || e == ns) return true;
  return false;
}

}  // namespace mesh::model
