// EnvoyFilter, after istio/api networking/v1alpha3/envoy_filter.proto. Patch values are Envoy
// config (google.protobuf.Struct) and stay free-form here.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kEnvoyFilterSchema = {"schema_envoy_filter.cpp", R"yaml(
kind: networking.istio.io/EnvoyFilter
spec: EnvoyFilter
proto: true
types:
  EnvoyFilter:
    workloadSelector: NetworkingWorkloadSelector
    targetRefs: list<PolicyTargetReference>
    configPatches: list<EnvoyConfigObjectPatch>
    priority: int32
  EnvoyConfigObjectPatch:
    applyTo: enum(INVALID|LISTENER|FILTER_CHAIN|NETWORK_FILTER|HTTP_FILTER|ROUTE_CONFIGURATION|VIRTUAL_HOST|HTTP_ROUTE|CLUSTER|EXTENSION_CONFIG|BOOTSTRAP|LISTENER_FILTER)
    match: EnvoyConfigObjectMatch
    patch: EnvoyFilterPatch
  EnvoyConfigObjectMatch:
    context: enum(ANY|SIDECAR_INBOUND|SIDECAR_OUTBOUND|GATEWAY)
    proxy: ProxyMatch
    listener: ListenerMatch
    routeConfiguration: RouteConfigurationMatch
    cluster: ClusterMatch
    _oneof: [listener|routeConfiguration|cluster]
  ProxyMatch:
    proxyVersion: string
    metadata: map<string,string>
  ListenerMatch:
    portNumber: uint32
    portName: string
    filterChain: FilterChainMatch
    listenerFilter: string
    name: string
  FilterChainMatch:
    name: string
    sni: string
    transportProtocol: string
    applicationProtocols: string
    filter: FilterMatch
    destinationPort: uint32
  FilterMatch:
    name: string
    subFilter: SubFilterMatch
  SubFilterMatch:
    name: string
  RouteConfigurationMatch:
    portNumber: uint32
    portName: string
    gateway: string
    vhost: VirtualHostMatch
    name: string
  VirtualHostMatch:
    name: string
    domainName: string
    route: EnvoyRouteMatch
  EnvoyRouteMatch:
    name: string
    action: enum(ANY|ROUTE|REDIRECT|DIRECT_RESPONSE)
  ClusterMatch:
    portNumber: uint32
    service: string
    subset: string
    name: string
  EnvoyFilterPatch:
    operation: enum(INVALID|MERGE|ADD|REMOVE|INSERT_BEFORE|INSERT_AFTER|INSERT_FIRST|REPLACE)
    value: any
    filterClass: enum(UNSPECIFIED|AUTHN|AUTHZ|STATS)
)yaml"};

}  // namespace mesh::core::schema
