// Kubernetes Service (core/v1 ServiceSpec).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kServiceSchema = {"schema_service.cpp", R"yaml(
kind: Service
spec: ServiceSpec
types:
  ServiceSpec:
    type: enum(ClusterIP|NodePort|LoadBalancer|ExternalName)
    selector: map<string,string>
    ports: list<KubeServicePort>
    clusterIP: string
    clusterIPs: list<string>
    externalIPs: list<string>
    sessionAffinity: enum(ClientIP|None)
    sessionAffinityConfig: SessionAffinityConfig
    loadBalancerIP: string
    loadBalancerSourceRanges: list<string>
    loadBalancerClass: string
    externalName: string
    externalTrafficPolicy: enum(Cluster|Local)
    internalTrafficPolicy: enum(Cluster|Local)
    healthCheckNodePort: int32
    publishNotReadyAddresses: bool
    ipFamilies: list<enum(IPv4|IPv6)>
    ipFamilyPolicy: enum(SingleStack|PreferDualStack|RequireDualStack)
    allocateLoadBalancerNodePorts: bool
    trafficDistribution: string
  KubeServicePort:
    name: string
    protocol: Protocol
    appProtocol: string
    port: required int32
    targetPort: intOrString
    nodePort: int32
  SessionAffinityConfig:
    clientIP: ClientIPConfig
  ClientIPConfig:
    timeoutSeconds: int32
)yaml"};

}  // namespace mesh::core::schema
