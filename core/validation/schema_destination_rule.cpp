// DestinationRule, after istio/api networking/v1alpha3/destination_rule.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kDestinationRuleSchema = {"schema_destination_rule.cpp", R"yaml(
kind: networking.istio.io/DestinationRule
spec: DestinationRule
proto: true
types:
  DestinationRule:
    host: required string
    trafficPolicy: TrafficPolicy
    subsets: list<Subset>
    exportTo: list<string>
    workloadSelector: WorkloadSelector
  TrafficPolicy:
    loadBalancer: LoadBalancerSettings
    connectionPool: ConnectionPoolSettings
    outlierDetection: OutlierDetection
    tls: ClientTLSSettings
    portLevelSettings: list<PortTrafficPolicy>
    tunnel: TunnelSettings
    proxyProtocol: ProxyProtocol
  PortTrafficPolicy:
    port: PortSelector
    loadBalancer: LoadBalancerSettings
    connectionPool: ConnectionPoolSettings
    outlierDetection: OutlierDetection
    tls: ClientTLSSettings
  TunnelSettings:
    protocol: string
    targetHost: required string
    targetPort: required uint32
  ProxyProtocol:
    version: enum(V1|V2)
  Subset:
    name: required string
    labels: map<string,string>
    trafficPolicy: TrafficPolicy
  LoadBalancerSettings:
    simple: enum(UNSPECIFIED|LEAST_CONN|RANDOM|PASSTHROUGH|ROUND_ROBIN|LEAST_REQUEST)
    consistentHash: ConsistentHashLB
    localityLbSetting: LocalityLoadBalancerSetting
    warmupDurationSecs: duration
    warmup: WarmupConfiguration
    _oneof: [simple|consistentHash]
  WarmupConfiguration:
    duration: required duration
    minimumPercent: double
    aggression: double
  ConsistentHashLB:
    httpHeaderName: string
    httpCookie: HTTPCookie
    useSourceIp: bool
    httpQueryParameterName: string
    ringHash: RingHash
    maglev: MagLev
    minimumRingSize: int64
    _oneof: [httpHeaderName|httpCookie|useSourceIp|httpQueryParameterName, ringHash|maglev]
  HTTPCookie:
    name: required string
    path: string
    ttl: duration
    attributes: list<CookieAttribute>
  CookieAttribute:
    name: required string
    value: string
  RingHash:
    minimumRingSize: int64
  MagLev:
    tableSize: int64
  LocalityLoadBalancerSetting:
    distribute: list<LocalityDistribute>
    failover: list<LocalityFailover>
    failoverPriority: list<string>
    enabled: bool
  LocalityDistribute:
    from: string
    to: map<string,uint32>
  LocalityFailover:
    from: string
    to: string
  OutlierDetection:
    splitExternalLocalOriginErrors: bool
    consecutiveLocalOriginFailures: uint32
    consecutiveGatewayErrors: uint32
    consecutive5xxErrors: uint32
    interval: duration
    baseEjectionTime: duration
    maxEjectionPercent: int32
    minHealthPercent: int32
    consecutiveErrors: int32
)yaml"};

}  // namespace mesh::core::schema
