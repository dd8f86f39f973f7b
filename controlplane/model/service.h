// The service registry's values: a Service (a host with ports, from a Kubernetes Service or a
// ServiceEntry host) and its Endpoints (from Pods, EndpointSlices, WorkloadEntries or inline
// ServiceEntry endpoints), as Istio's model.Service and model.IstioEndpoint. Immutable once the
// registry is built; any thread may read them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controlplane/model/protocol.h"
#include "core/resource.h"

namespace mesh::model {

using Labels = std::map<std::string, std::string, std::less<>>;

struct ServicePort {
  std::string name;
  uint32_t port = 0;
  Protocol protocol = Protocol::Unsupported;
};

// How a client reaches the endpoints (ServiceEntry.resolution; Kubernetes Services are EDS).
enum class Resolution { ClientSideLB, Dns, DnsRoundRobin, Passthrough };

struct Service {
  std::string hostname;    // FQDN: "payments-api.payments.svc.cluster.local"
  std::string namespace_;  // of the Service or ServiceEntry
  std::string name;        // the Kubernetes Service's name; the ServiceEntry's name otherwise
  std::vector<ServicePort> ports;
  std::string address;     // cluster IP or the ServiceEntry's first address; "" when none
  Resolution resolution = Resolution::ClientSideLB;
  bool meshExternal = false;
  bool fromServiceEntry = false;
  std::vector<std::string> exportTo;  // empty: visible everywhere ("*")
  const core::Resource* origin = nullptr;

  const ServicePort* port(uint32_t number) const;
  const ServicePort* portNamed(std::string_view portName) const;
  // Whether a proxy in namespace `ns` may see this service (exportTo "*", "." or a namespace).
  bool visibleFrom(std::string_view ns) const;
};

// One workload instance behind one service port: Istio's IstioEndpoint.
struct Endpoint {
  std::string address;
  uint32_t port = 0;             // the workload's port for this service port
  std::string servicePortName;
  Labels labels;
  std::string namespace_;
  std::string workloadName;      // Pod or WorkloadEntry name
  std::string serviceAccount;
  std::string locality;          // "region/zone/subzone"
  std::string network;
  uint32_t weight = 0;           // 0: unset
  bool healthy = true;
  // Istio's tlsMode "istio": the workload runs a mesh proxy, so clients may use mesh mTLS
  // (pods labelled security.istio.io/tlsMode=istio; WorkloadEntries with a service account).
  bool istioMutualCapable = false;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace mesh::model
