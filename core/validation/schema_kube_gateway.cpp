// Kubernetes Gateway API Gateway (gateway.networking.k8s.io/v1 GatewaySpec).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kKubeGatewaySchema = {"schema_kube_gateway.cpp", R"yaml(
kind: gateway.networking.k8s.io/Gateway
spec: GatewaySpec
types:
  GatewaySpec:
    gatewayClassName: required string
    listeners: required list<Listener>
    addresses: list<GatewaySpecAddress>
    infrastructure: GatewayInfrastructure
    backendTLS: GatewayBackendTLS
    allowedListeners: any
  Listener:
    name: required string
    hostname: string
    port: required int32
    protocol: required string
    tls: GatewayTLSConfig
    allowedRoutes: AllowedRoutes
  GatewayTLSConfig:
    mode: enum(Terminate|Passthrough)
    certificateRefs: list<SecretObjectReference>
    frontendValidation: any
    options: map<string,string>
  SecretObjectReference:
    group: string
    kind: string
    name: required string
    namespace: string
  AllowedRoutes:
    namespaces: RouteNamespaces
    kinds: list<RouteGroupKind>
  RouteNamespaces:
    from: enum(All|Selector|Same)
    selector: LabelSelector
  RouteGroupKind:
    group: string
    kind: required string
  GatewaySpecAddress:
    type: string
    value: string
  GatewayInfrastructure:
    labels: map<string,string>
    annotations: map<string,string>
    parametersRef: GwLocalObjectReference
  GatewayBackendTLS:
    clientCertificateRef: SecretObjectReference
  GwLocalObjectReference:
    group: required string
    kind: required string
    name: required string
)yaml"};

}  // namespace mesh::core::schema
