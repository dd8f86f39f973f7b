// `-o json`: one object, keys always present (empty lists, null for no DestinationRule), so
// scripts can rely on the shape:
//   {"kind": "pod"|"workload"|"service", "name", "namespace",
//    "workloads": [{"kind": "Pod"|"WorkloadEntry", "name", "namespace", "address", "serviceAccount",
//                   "labels": {}, "revision", "meshed", "ports": [{"port", "protocol", "name", "container"}]}],
//    "services": [{"kind": "Service"|"ServiceEntry", "name", "namespace", "host",
//                  "ports": [{"name", "port", "protocol", "targetPort": N|null}],
//                  "destinationRule": null | {"name", "namespace", "host", "subsets", "matchingSubsets",
//                                             "nonMatchingSubsets", "tlsMode", "policies", "details",
//                                             "otherNamespaces"},
//                  "virtualServices": [VS], "ingress": [{"gateway": "ns/name", "url", "virtualService"}],
//                  "warnings": []}],
//    "peerAuthentication": [{"workloads", "mode", "portLevel": {"9080": "STRICT"}, "applied": []}],
//    "authorizationPolicies": [{"name", "namespace", "action", "rules", "matchesAll", "dryRun"}],
//    "authorizationSummary": [], "warnings": [every warning, without its "WARNING: " prefix]}
// VS: {"name", "namespace", "gateways", "routes": [{"type": "http"|"tls"|"tcp", "index", "name",
//      "match", "reaches", "destinations": [{"host", "subset", "weight": N|null, "reaches"}]}]}
#include <fmt/format.h>

#include "cli/describe/describe.h"

namespace mesh::cli::describe {
namespace {

using Json = nlohmann::ordered_json;

Json workloadJson(const Workload& w) {
  Json ports = Json::array();
  for (const WorkloadPort& p : w.ports)
    ports.push_back({{"port", p.number}, {"protocol", p.protocol}, {"name", p.name}, {"container", p.owner}});
  Json labels = Json::object();
  for (const auto& [k, v] : w.labels) labels[k] = v;
  return {{"kind", w.kind},       {"name", w.name},       {"namespace", w.namespace_},
          {"address", w.address}, {"serviceAccount", w.serviceAccount}, {"labels", labels},
          {"revision", w.revision}, {"meshed", w.meshed}, {"ports", ports}};
}

Json virtualServiceJson(const VirtualServiceView& vs) {
  Json routes = Json::array();
  for (const RouteView& r : vs.routes) {
    Json dests = Json::array();
    for (const RouteDestination& d : r.destinations)
      dests.push_back({{"host", d.host},
                       {"subset", d.subset},
                       {"weight", d.weight ? Json(*d.weight) : Json(nullptr)},
                       {"reaches", d.reaches}});
    routes.push_back({{"type", r.type}, {"index", r.index}, {"name", r.name}, {"match", r.match},
                      {"reaches", r.reaches}, {"destinations", dests}});
  }
  return {{"name", std::string(vs.vs->name())},
          {"namespace", std::string(vs.vs->namespace_())},
          {"gateways", vs.gateways},
          {"routes", routes}};
}

std::string withoutPrefix(const std::string& warning) {
  constexpr std::string_view kPrefix = "WARNING: ";
  return warning.starts_with(kPrefix) ? warning.substr(kPrefix.size()) : warning;
}

Json serviceJson(const ServiceSection& s, Json& warnings) {
  const ServiceView& v = s.service;
  Json ports = Json::array();
  for (const ServicePortView& p : v.ports)
    ports.push_back({{"name", p.name}, {"port", p.number}, {"protocol", p.protocol},
                     {"targetPort", p.target ? Json(*p.target) : Json(nullptr)}});
  Json dr = nullptr;
  if (const auto& r = s.destinationRule) {
    Json details = Json::array();
    for (const Line& l : r->details) details.push_back(l.text);
    dr = {{"name", std::string(r->rule->name())}, {"namespace", std::string(r->rule->namespace_())},
          {"host", r->host}, {"subsets", r->subsets}, {"matchingSubsets", r->matchingSubsets},
          {"nonMatchingSubsets", r->nonMatchingSubsets}, {"tlsMode", r->tlsMode}, {"policies", r->policies},
          {"details", details}, {"otherNamespaces", r->shadowedFor}};
  }
  Json vss = Json::array();
  for (const VirtualServiceView& vs : s.virtualServices) vss.push_back(virtualServiceJson(vs));
  Json ingress = Json::array();
  for (const IngressView& in : s.ingress) {
    const VirtualServiceView& vs = s.gatewayVirtualServices[in.virtualService];
    ingress.push_back({{"gateway", in.gateway}, {"url", in.url},
                       {"virtualService", fmt::format("{}.{}", vs.vs->name(), vs.vs->namespace_())}});
  }
  Json own = Json::array();
  for (const VirtualServiceView& vs : s.virtualServices)
    for (const Line& l : vs.lines)
      if (l.text.starts_with("WARNING")) own.push_back(withoutPrefix(l.text));
  for (const std::string& w : s.warnings) own.push_back(withoutPrefix(w));
  for (const auto& w : own) warnings.push_back(w);
  return {{"kind", v.kind},         {"name", v.name},       {"namespace", v.namespace_}, {"host", v.host},
          {"ports", ports},         {"destinationRule", dr}, {"virtualServices", vss},  {"ingress", ingress},
          {"warnings", own}};
}

}  // namespace

nlohmann::ordered_json toJson(const Description& d) {
  Json warnings = Json::array();
  for (const std::string& w : d.workloadWarnings) warnings.push_back(withoutPrefix(w));
  Json workloads = Json::array();
  for (const Workload& w : d.workloads) workloads.push_back(workloadJson(w));
  Json services = Json::array();
  for (const ServiceSection& s : d.services) services.push_back(serviceJson(s, warnings));
  Json pas = Json::array();
  for (const PeerAuthenticationView& pa : d.peerAuthentication) {
    Json ports = Json::object();
    for (const auto& [port, mode] : pa.portModes) ports[std::to_string(port)] = mode;
    pas.push_back({{"workloads", pa.workload}, {"mode", pa.mode}, {"portLevel", ports}, {"applied", pa.applied}});
  }
  Json authz = Json::array();
  for (const AuthorizationPolicyView& p : d.authorizationPolicies)
    authz.push_back({{"name", std::string(p.policy->name())}, {"namespace", std::string(p.policy->namespace_())},
                     {"action", p.action}, {"rules", p.rules}, {"matchesAll", p.matchesAll},
                     {"dryRun", p.policy->annotation("istio.io/dry-run") == "true"}});
  for (const std::string& w : d.securityWarnings) warnings.push_back(withoutPrefix(w));
  for (const std::string& w : d.authorizationWarnings) warnings.push_back(withoutPrefix(w));
  std::string kind = d.request.kind == TargetKind::Pod ? "pod" : d.request.kind == TargetKind::Workload ? "workload" : "service";
  std::string name = d.workloads.empty() || d.request.kind == TargetKind::Service ? d.services.front().service.name
                                                                                   : d.workloads.front().name;
  std::string ns = d.request.kind == TargetKind::Service ? d.services.front().service.namespace_ : d.workloads.front().namespace_;
  return {{"kind", kind},
          {"name", name},
          {"namespace", ns},
          {"workloads", workloads},
          {"services", services},
          {"peerAuthentication", pas},
          {"authorizationPolicies", authz},
          {"authorizationSummary", d.authorizationSummary},
          {"warnings", warnings}};
}

}  // namespace mesh::cli::describe
