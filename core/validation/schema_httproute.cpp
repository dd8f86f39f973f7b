// Kubernetes Gateway API HTTPRoute (gateway.networking.k8s.io/v1 HTTPRouteSpec).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kHttpRouteSchema = {"schema_httproute.cpp", R"yaml(
kind: gateway.networking.k8s.io/HTTPRoute
spec: HTTPRouteSpec
types:
  HTTPRouteSpec:
    parentRefs: list<ParentReference>
    hostnames: list<string>
    rules: list<HTTPRouteRule>
  ParentReference:
    group: string
    kind: string
    namespace: string
    name: required string
    sectionName: string
    port: int32
  HTTPRouteRule:
    name: string
    matches: list<HTTPRouteMatch>
    filters: list<HTTPRouteFilter>
    backendRefs: list<HTTPBackendRef>
    timeouts: HTTPRouteTimeouts
    retry: HTTPRouteRetry
    sessionPersistence: any
  HTTPRouteMatch:
    path: HTTPPathMatch
    headers: list<HTTPHeaderMatch>
    queryParams: list<HTTPQueryParamMatch>
    method: enum(GET|HEAD|POST|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH)
  HTTPPathMatch:
    type: enum(Exact|PathPrefix|RegularExpression)
    value: string
  HTTPHeaderMatch:
    type: enum(Exact|RegularExpression)
    name: required string
    value: required string
  HTTPQueryParamMatch:
    type: enum(Exact|RegularExpression)
    name: required string
    value: required string
  HTTPRouteFilter:
    type: required enum(RequestHeaderModifier|ResponseHeaderModifier|RequestMirror|RequestRedirect|URLRewrite|ExtensionRef|CORS)
    requestHeaderModifier: HTTPHeaderFilter
    responseHeaderModifier: HTTPHeaderFilter
    requestMirror: HTTPRequestMirrorFilter
    requestRedirect: HTTPRequestRedirectFilter
    urlRewrite: HTTPURLRewriteFilter
    extensionRef: GwLocalObjectReference
    cors: any
  HTTPHeaderFilter:
    set: list<HTTPHeader>
    add: list<HTTPHeader>
    remove: list<string>
  HTTPHeader:
    name: required string
    value: required string
  HTTPRequestMirrorFilter:
    backendRef: required BackendObjectReference
    percent: int32
    fraction: Fraction
  Fraction:
    numerator: required int32
    denominator: int32
  BackendObjectReference:
    group: string
    kind: string
    name: required string
    namespace: string
    port: int32
  HTTPRequestRedirectFilter:
    scheme: enum(http|https)
    hostname: string
    path: HTTPPathModifier
    port: int32
    statusCode: int32
  HTTPURLRewriteFilter:
    hostname: string
    path: HTTPPathModifier
  HTTPPathModifier:
    type: required enum(ReplaceFullPath|ReplacePrefixMatch)
    replaceFullPath: string
    replacePrefixMatch: string
  HTTPBackendRef:
    group: string
    kind: string
    name: required string
    namespace: string
    port: int32
    weight: int32
    filters: list<HTTPRouteFilter>
  HTTPRouteTimeouts:
    request: duration
    backendRequest: duration
  HTTPRouteRetry:
    codes: list<int32>
    attempts: int32
    backoff: duration
)yaml"};

}  // namespace mesh::core::schema
