// `meshctl describe pod|workload|service`: what config applies to one workload or service, in
// the manner of istioctl's `x describe pod|svc`, computed from config alone (files, the local
// mesh's store or a cluster's objects) rather than from a proxy's config dump. describe()
// builds a Description; renderText() prints istioctl's shape, toJson() the stable -o json
// shape (documented in render_json.cpp). Pure functions of the snapshot; main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/snapshot.h"
#include "analyzers/util/selectors.h"
#include "core/result.h"

namespace mesh::cli::describe {

enum class TargetKind { Pod, Workload, Service };

struct Request {
  TargetKind kind = TargetKind::Pod;
  std::string name;       // NAME or NAME.NAMESPACE, as given
  std::string namespace_; // -n; names in it print without ".namespace", as istioctl's kname()
};

// A line of output under a heading: indent in istioctl's steps (0, 3 or 6 spaces).
struct Line {
  int indent = 0;
  std::string text;
};

struct WorkloadPort {
  uint32_t number = 0;
  std::string protocol;  // "TCP" when unset
  std::string name;      // the container port's name, or the WorkloadEntry port's key
  std::string owner;     // the container, for pods
};

// A Pod or a WorkloadEntry: what routing and policy selection look at.
struct Workload {
  const core::Resource* origin = nullptr;
  std::string kind;  // "Pod" or "WorkloadEntry"
  std::string name;
  std::string namespace_;
  analysis::Labels labels;
  std::string serviceAccount;
  std::string address;
  std::string revision;  // pods: the injection revision ("default" when injected without one)
  bool meshed = true;    // runs (or will be injected with) a sidecar
  std::vector<WorkloadPort> ports;
};

struct ServicePortView {
  std::string name;
  uint32_t number = 0;
  std::string protocol;             // Istio's name: "HTTP", "GRPC", "TCP", "auto-detect" ...
  std::optional<uint32_t> target;   // the first workload's port; nullopt when it has none
  std::string targetName;           // a named targetPort the workload lacks
};

// A Kubernetes Service, or one host of a ServiceEntry.
struct ServiceView {
  const core::Resource* origin = nullptr;
  std::string kind;  // "Service" or "ServiceEntry"
  std::string name;
  std::string namespace_;
  std::string host;  // FQDN
  std::vector<ServicePortView> ports;
};

struct DestinationRuleView {
  const core::Resource* rule = nullptr;
  std::string host;  // as written
  std::vector<std::string> subsets;  // every subset name, in order
  std::vector<std::string> matchingSubsets, nonMatchingSubsets;
  std::string tlsMode;                // "" when the traffic policy sets none
  bool hasTrafficPolicy = false;
  std::vector<std::string> policies;  // "load balancer", "connection pool", "outlier detection"
  std::vector<Line> details;          // summaries of those, and port-level settings
  std::vector<std::string> portTlsModes;  // "9080: DISABLE" per portLevelSettings tls
  // Rules in other namespaces that clients there use instead (Istio looks in the client's
  // namespace first): "name.namespace".
  std::vector<std::string> shadowedFor;
};

struct RouteDestination {
  std::string host;     // as written
  std::string subset;
  std::optional<int64_t> weight;
  bool toService = false;  // names the described service's host
  bool reaches = false;    // can carry traffic to the described workload(s)
};

struct RouteView {
  std::string type;  // "http", "tcp" or "tls"
  size_t index = 0;  // 0-based within its type
  std::string name;
  std::string match;  // istioctl's renderMatches(): "everything", "Match: /api*", ...
  std::vector<RouteDestination> destinations;
  bool reaches = false;
};

struct VirtualServiceView {
  const core::Resource* vs = nullptr;
  std::vector<std::string> gateways;  // as written; empty means the mesh
  std::vector<RouteView> routes;
  std::vector<Line> lines;            // the text under the "VirtualService:" heading
};

struct IngressView {
  std::string gateway;  // "namespace/name"
  std::string url;      // "http://bookinfo.example.com"; "" when the Gateway is missing
  size_t virtualService = 0;  // index into ServiceSection::gatewayVirtualServices
};

struct ServiceSection {
  ServiceView service;
  std::optional<DestinationRuleView> destinationRule;
  std::vector<VirtualServiceView> virtualServices;  // bound to the mesh gateway
  std::vector<VirtualServiceView> gatewayVirtualServices;
  std::vector<IngressView> ingress;
  std::vector<std::string> warnings;
};

struct PeerAuthenticationView {
  std::string mode;  // "STRICT", "PERMISSIVE" or "DISABLE"
  std::vector<std::pair<uint32_t, std::string>> portModes;
  std::vector<std::string> applied;  // "name.namespace"
  std::string workload;              // the workload it was computed for
};

struct AuthorizationPolicyView {
  const core::Resource* policy = nullptr;
  std::string action;  // ALLOW, DENY, CUSTOM, AUDIT
  size_t rules = 0;
  bool hasRules = false;  // `rules` present and non-empty
  bool matchesAll = false;  // some rule is empty: matches every request
};

struct Description {
  Request request;
  std::string describeNamespace;
  std::vector<Workload> workloads;  // pod/workload: the one; service: those it selects
  std::vector<std::string> workloadWarnings;
  std::vector<ServiceSection> services;
  std::vector<PeerAuthenticationView> peerAuthentication;  // one per distinct result
  std::vector<std::string> securityWarnings;
  std::vector<AuthorizationPolicyView> authorizationPolicies;
  std::vector<std::string> authorizationSummary;
  std::vector<std::string> authorizationWarnings;
};

// NotFound carries kubectl's message: `pods "x" not found`.
Result<Description> describe(const analysis::Snapshot& snapshot, const Request& request);

std::string renderText(const Description& d);
nlohmann::ordered_json toJson(const Description& d);

}  // namespace mesh::cli::describe
