// VirtualService, after istio/api networking/v1alpha3/virtual_service.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kVirtualServiceSchema = {"schema_virtual_service.cpp", R"yaml(
kind: networking.istio.io/VirtualService
spec: VirtualService
proto: true
types:
  VirtualService:
    hosts: list<string>
    gateways: list<string>
    http: list<HTTPRoute>
    tls: list<TLSRoute>
    tcp: list<TCPRoute>
    exportTo: list<string>
  HTTPRoute:
    name: string
    match: list<HTTPMatchRequest>
    route: list<HTTPRouteDestination>
    redirect: HTTPRedirect
    directResponse: HTTPDirectResponse
    delegate: Delegate
    rewrite: HTTPRewrite
    timeout: duration
    retries: HTTPRetry
    fault: HTTPFaultInjection
    mirror: Destination
    mirrors: list<HTTPMirrorPolicy>
    mirrorPercent: uint32
    mirrorPercentage: Percent
    corsPolicy: CorsPolicy
    headers: Headers
  HTTPMatchRequest:
    name: string
    uri: StringMatch
    scheme: StringMatch
    method: StringMatch
    authority: StringMatch
    headers: map<string,StringMatch>
    port: uint32
    sourceLabels: map<string,string>
    gateways: list<string>
    queryParams: map<string,StringMatch>
    ignoreUriCase: bool
    withoutHeaders: map<string,StringMatch>
    sourceNamespace: string
    statPrefix: string
  StringMatch:
    exact: string
    prefix: string
    regex: string
    _oneof: [exact|prefix|regex]
  HTTPRouteDestination:
    destination: required Destination
    weight: int32
    headers: Headers
  RouteDestination:
    destination: required Destination
    weight: int32
  Headers:
    request: HeaderOperations
    response: HeaderOperations
  HeaderOperations:
    set: map<string,string>
    add: map<string,string>
    remove: list<string>
  Delegate:
    name: string
    namespace: string
  HTTPRedirect:
    uri: string
    authority: string
    port: uint32
    derivePort: enum(FROM_PROTOCOL_DEFAULT|FROM_REQUEST_PORT)
    scheme: string
    redirectCode: uint32
    _oneof: [port|derivePort]
  HTTPDirectResponse:
    status: required uint32
    body: HTTPBody
  HTTPBody:
    string: string
    bytes: string
    _oneof: [string|bytes]
  HTTPRewrite:
    uri: string
    authority: string
    uriRegexRewrite: RegexRewrite
  RegexRewrite:
    match: string
    rewrite: string
  HTTPRetry:
    attempts: int32
    perTryTimeout: duration
    retryOn: string
    retryRemoteLocalities: bool
    retryIgnorePreviousHosts: bool
    backoff: duration
  HTTPFaultInjection:
    delay: FaultDelay
    abort: FaultAbort
  FaultDelay:
    percent: int32
    fixedDelay: duration
    exponentialDelay: duration
    percentage: Percent
    _oneof: [fixedDelay|exponentialDelay]
  FaultAbort:
    httpStatus: int32
    grpcStatus: string
    http2Error: string
    percentage: Percent
    _oneof: [httpStatus|grpcStatus|http2Error]
  HTTPMirrorPolicy:
    destination: required Destination
    percentage: Percent
  CorsPolicy:
    allowOrigin: list<string>
    allowOrigins: list<StringMatch>
    allowMethods: list<string>
    allowHeaders: list<string>
    exposeHeaders: list<string>
    maxAge: duration
    allowCredentials: bool
    unmatchedPreflights: enum(UNSPECIFIED|FORWARD|IGNORE)
  TLSRoute:
    match: list<TLSMatchAttributes>
    route: list<RouteDestination>
  TLSMatchAttributes:
    sniHosts: required list<string>
    destinationSubnets: list<string>
    port: uint32
    sourceLabels: map<string,string>
    gateways: list<string>
    sourceNamespace: string
  TCPRoute:
    match: list<L4MatchAttributes>
    route: list<RouteDestination>
  L4MatchAttributes:
    destinationSubnets: list<string>
    port: uint32
    sourceSubnet: string
    sourceLabels: map<string,string>
    gateways: list<string>
    sourceNamespace: string
)yaml"};

}  // namespace mesh::core::schema
