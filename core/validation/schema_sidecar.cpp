// Sidecar, after istio/api networking/v1alpha3/sidecar.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kSidecarSchema = {"schema_sidecar.cpp", R"yaml(
kind: networking.istio.io/Sidecar
spec: Sidecar
proto: true
types:
  Sidecar:
    workloadSelector: NetworkingWorkloadSelector
    ingress: list<IstioIngressListener>
    egress: list<IstioEgressListener>
    inboundConnectionPool: ConnectionPoolSettings
    outboundTrafficPolicy: OutboundTrafficPolicy
  IstioIngressListener:
    port: required SidecarPort
    bind: string
    captureMode: CaptureMode
    defaultEndpoint: string
    tls: ServerTLSSettings
    connectionPool: ConnectionPoolSettings
  IstioEgressListener:
    port: SidecarPort
    bind: string
    captureMode: CaptureMode
    hosts: required list<string>
  SidecarPort:
    number: uint32
    protocol: string
    name: string
    targetPort: uint32
  CaptureMode: enum(DEFAULT|IPTABLES|NONE)
  OutboundTrafficPolicy:
    mode: enum(REGISTRY_ONLY|ALLOW_ANY)
    egressProxy: Destination
)yaml"};

}  // namespace mesh::core::schema
