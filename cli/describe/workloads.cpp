#include "cli/describe/workloads.h"

#include <nlohmann/json.hpp>

#include "analyzers/util/service_lookup.h"
#include "analyzers/util/workloads.h"
#include "core/validation/istio_rules.h"

namespace mesh::cli::describe {
namespace {

using analysis::kinds::Namespace;
using analysis::kinds::Pod;
using analysis::kinds::Service;
using analysis::kinds::ServiceEntry;
using analysis::kinds::WorkloadEntry;
using core::Node;
using core::validation::Protocol;

std::optional<uint32_t> uintAt(const Node* map, std::string_view key) {
  const Node* n = map ? map->get(key) : nullptr;
  auto v = n ? n->asInt() : std::nullopt;
  if (!v || *v <= 0 || *v > 65535) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// The sidecar injector's revision: the istio.io/rev annotation, the injection status
// annotation's "revision", the pod's or its namespace's istio.io/rev label.
std::string podRevision(const analysis::Snapshot& snapshot, const core::Resource& pod, bool meshed) {
  if (std::string_view rev = pod.annotation(analysis::kRevisionLabel); !rev.empty()) return std::string(rev);
  if (std::string_view status = pod.annotation("sidecar.istio.io/status"); !status.empty()) {
    auto parsed = nlohmann::json::parse(status, nullptr, false);
    if (parsed.is_object() && parsed.contains("revision") && parsed["revision"].is_string())
      return parsed["revision"].get<std::string>();
  }
  if (std::string_view rev = pod.label(analysis::kRevisionLabel); !rev.empty()) return std::string(rev);
  if (const core::Resource* ns = snapshot.find(Namespace, "", pod.namespace_()))
    if (std::string_view rev = ns->label(analysis::kRevisionLabel); !rev.empty()) return std::string(rev);
  return meshed ? "default" : "";
}

const Node* workloadLabels(const core::Resource& r) {
  if (r.kind() == "WorkloadEntry") return r.spec() ? r.spec()->get("labels") : nullptr;
  return r.labels();
}

// Where a service port lands on the workload: WorkloadEntry `ports` by service port name, a
// named targetPort by container port name, else the target port number.
struct Target {
  std::optional<uint32_t> number;
  std::string name;
};

std::optional<uint32_t> resolveTarget(const Workload& w, std::string_view servicePortName, const Target& t) {
  if (w.kind == "WorkloadEntry") {
    for (const WorkloadPort& p : w.ports)
      if (p.name == servicePortName) return p.number;
    return t.number;
  }
  if (t.number) return t.number;
  for (const WorkloadPort& p : w.ports)
    if (p.name == t.name) return p.number;
  return std::nullopt;
}

ServiceView kubeService(const core::Resource& svc, const Workload* first, std::string_view domain) {
  ServiceView v;
  v.origin = &svc;
  v.kind = "Service";
  v.name = std::string(svc.name());
  v.namespace_ = std::string(svc.namespace_());
  v.host = analysis::istioFqdn(svc.namespace_(), svc.name(), domain);
  const Node* ports = svc.spec() ? svc.spec()->get("ports") : nullptr;
  for (const Node* p : ports ? ports->items() : std::span<const Node* const>()) {
    // istioctl leaves out UDP ports: Istio does not proxy them.
    if (analysis::scalarAt(p, "protocol") == "UDP") continue;
    ServicePortView port;
    port.name = std::string(analysis::scalarAt(p, "name"));
    port.number = uintAt(p, "port").value_or(0);
    std::string_view app = analysis::scalarAt(p, "appProtocol");
    port.protocol = port.name.empty() && app.empty() ? "auto-detect" : kubePortProtocol(port.name, app);
    Target t;
    if (const Node* tp = p->get("targetPort")) {
      if (auto n = uintAt(p, "targetPort")) t.number = n;
      else t.name = std::string(tp->text());
    } else {
      t.number = port.number;
    }
    if (first) port.target = resolveTarget(*first, port.name, t);
    if (!port.target) port.targetName = t.name;
    v.ports.push_back(std::move(port));
  }
  return v;
}

std::vector<ServiceView> serviceEntryHosts(const core::Resource& se, const Workload* first, std::string_view domain) {
  std::vector<ServiceView> out;
  const Node* spec = se.spec();
  std::vector<ServicePortView> ports;
  const Node* list = spec ? spec->get("ports") : nullptr;
  for (const Node* p : list ? list->items() : std::span<const Node* const>()) {
    ServicePortView port;
    port.name = std::string(analysis::scalarAt(p, "name"));
    port.number = uintAt(p, "number").value_or(0);
    port.protocol = serviceEntryPortProtocol(analysis::scalarAt(p, "protocol"));
    Target t{uintAt(p, "targetPort").value_or(port.number), ""};
    if (first) port.target = resolveTarget(*first, port.name, t);
    ports.push_back(std::move(port));
  }
  for (const std::string& h : analysis::stringList(spec ? spec->get("hosts") : nullptr)) {
    ServiceView v;
    v.origin = &se;
    v.kind = "ServiceEntry";
    v.name = std::string(se.name());
    v.namespace_ = std::string(se.namespace_());
    v.host = analysis::istioFqdn(se.namespace_(), h, domain);
    v.ports = ports;
    out.push_back(std::move(v));
  }
  return out;
}

const Node* serviceEntrySelector(const core::Resource& se) {
  const Node* ws = se.spec() ? se.spec()->get("workloadSelector") : nullptr;
  return ws ? ws->get("labels") : nullptr;
}

// Plain-map selectors as Istio applies them to services: an empty one selects nothing.
bool selects(const Node* selector, const analysis::Labels& labels) {
  if (!selector || selector->size() == 0) return false;
  return analysis::LabelSelector::fromSet(selector).matches(labels);
}

void addSelected(const analysis::Snapshot& snapshot, const Node* selector, std::string_view ns,
                 std::vector<Workload>& out) {
  for (analysis::KindRef kind : {Pod, WorkloadEntry})
    for (const core::Resource* r : snapshot.inNamespace(kind, ns))
      if (selects(selector, analysis::labelsFrom(workloadLabels(*r)))) out.push_back(workloadOf(snapshot, *r));
}

}  // namespace

std::string kubePortProtocol(std::string_view name, std::string_view appProtocol) {
  if (!appProtocol.empty()) {
    // Kubernetes' standard application protocols, then Istio's own names.
    if (appProtocol == "kubernetes.io/h2c") return "HTTP2";
    if (appProtocol == "kubernetes.io/ws" || appProtocol == "kubernetes.io/wss") return "HTTP";
    Protocol p = core::validation::parseProtocol(appProtocol);
    if (p != Protocol::Unsupported) return std::string(core::validation::protocolName(p));
  }
  std::string_view prefix = name.substr(0, name.find('-'));
  return std::string(core::validation::protocolName(core::validation::parseProtocol(prefix)));
}

std::string serviceEntryPortProtocol(std::string_view protocol) {
  return std::string(core::validation::protocolName(core::validation::parseProtocol(protocol)));
}

Workload workloadOf(const analysis::Snapshot& snapshot, const core::Resource& r) {
  Workload w;
  w.origin = &r;
  w.kind = std::string(r.kind());
  w.name = std::string(r.name());
  w.namespace_ = std::string(r.namespace_());
  w.labels = analysis::labelsFrom(workloadLabels(r));
  const Node* spec = r.spec();
  if (w.kind == "WorkloadEntry") {
    w.serviceAccount = std::string(analysis::scalarAt(spec, "serviceAccount"));
    w.address = std::string(analysis::scalarAt(spec, "address"));
    if (const Node* ports = spec ? spec->get("ports") : nullptr)
      for (const core::MapEntry& e : ports->entries())
        if (auto n = e.value->asInt(); n && *n > 0 && *n <= 65535)
          w.ports.push_back({static_cast<uint32_t>(*n), "TCP", std::string(e.key->text()), ""});
  } else {
    w.serviceAccount = std::string(analysis::scalarAt(spec, "serviceAccountName"));
    if (w.serviceAccount.empty()) w.serviceAccount = std::string(analysis::scalarAt(spec, "serviceAccount"));
    w.address = std::string(analysis::scalarAt(r.root().get("status"), "podIP"));
    w.meshed = analysis::deploymentInMesh(snapshot, r);
    w.revision = podRevision(snapshot, r, w.meshed);
    for (const Node* c : analysis::containersOf(spec, false)) {
      const Node* ports = c->get("ports");
      for (const Node* p : ports ? ports->items() : std::span<const Node* const>()) {
        auto n = uintAt(p, "containerPort");
        if (!n) continue;
        std::string_view proto = analysis::scalarAt(p, "protocol");
        w.ports.push_back({*n, proto.empty() ? "TCP" : std::string(proto), std::string(analysis::scalarAt(p, "name")),
                           std::string(analysis::scalarAt(c, "name"))});
      }
    }
  }
  if (w.serviceAccount.empty()) w.serviceAccount = "default";
  return w;
}

std::vector<ServiceView> servicesSelecting(const analysis::Snapshot& snapshot, const Workload& w) {
  std::string domain = analysis::clusterDomainOf(snapshot);
  std::vector<ServiceView> out;
  for (const core::Resource* svc : snapshot.inNamespace(Service, w.namespace_))
    if (selects(svc->spec() ? svc->spec()->get("selector") : nullptr, w.labels))
      out.push_back(kubeService(*svc, &w, domain));
  for (const core::Resource* se : snapshot.inNamespace(ServiceEntry, w.namespace_))
    if (selects(serviceEntrySelector(*se), w.labels))
      for (ServiceView& v : serviceEntryHosts(*se, &w, domain)) out.push_back(std::move(v));
  return out;
}

std::optional<ServiceView> findService(const analysis::Snapshot& snapshot, std::string_view name, std::string_view ns,
                                       std::string_view rawName, std::vector<Workload>& workloads) {
  std::string domain = analysis::clusterDomainOf(snapshot);
  if (const core::Resource* svc = snapshot.find(Service, ns, name)) {
    addSelected(snapshot, svc->spec() ? svc->spec()->get("selector") : nullptr, ns, workloads);
    return kubeService(*svc, workloads.empty() ? nullptr : &workloads.front(), domain);
  }
  // A ServiceEntry host: NAME.NAMESPACE's FQDN, or the name as given ("api.example.com").
  std::string fqdn = analysis::istioFqdn(ns, name, domain);
  for (std::string_view wanted : {std::string_view(fqdn), rawName}) {
    const core::Resource* found = nullptr;
    for (const core::Resource* se : snapshot.all(ServiceEntry)) {
      for (const std::string& h : analysis::stringList(se->spec() ? se->spec()->get("hosts") : nullptr)) {
        if (analysis::istioFqdn(se->namespace_(), h, domain) != wanted) continue;
        if (!found || (se->namespace_() == ns && found->namespace_() != ns)) found = se;
      }
    }
    if (!found) continue;
    addSelected(snapshot, serviceEntrySelector(*found), found->namespace_(), workloads);
    for (ServiceView& v : serviceEntryHosts(*found, workloads.empty() ? nullptr : &workloads.front(), domain))
      if (v.host == wanted) return std::move(v);
  }
  return std::nullopt;
}

}  // namespace mesh::cli::describe
