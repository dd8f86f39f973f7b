// PeerAuthentication, AuthorizationPolicy and RequestAuthentication, after istio/api
// security/v1beta1/{peer_authentication,authorization,request_authentication}.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kPeerAuthenticationSchema = {"schema_security.cpp (PeerAuthentication)", R"yaml(
kind: security.istio.io/PeerAuthentication
spec: PeerAuthentication
proto: true
types:
  PeerAuthentication:
    selector: WorkloadSelector
    mtls: MutualTLS
    portLevelMtls: map<uint32,MutualTLS>
  MutualTLS:
    mode: enum(UNSET|DISABLE|PERMISSIVE|STRICT)
)yaml"};

const SchemaSource kAuthorizationPolicySchema = {"schema_security.cpp (AuthorizationPolicy)", R"yaml(
kind: security.istio.io/AuthorizationPolicy
spec: AuthorizationPolicy
proto: true
types:
  AuthorizationPolicy:
    selector: WorkloadSelector
    targetRef: PolicyTargetReference
    targetRefs: list<PolicyTargetReference>
    rules: list<Rule>
    action: enum(ALLOW|DENY|AUDIT|CUSTOM)
    provider: ExtensionProvider
  ExtensionProvider:
    name: string
  Rule:
    from: list<RuleFrom>
    to: list<RuleTo>
    when: list<Condition>
  RuleFrom:
    source: Source
  RuleTo:
    operation: Operation
  Source:
    principals: list<string>
    notPrincipals: list<string>
    requestPrincipals: list<string>
    notRequestPrincipals: list<string>
    namespaces: list<string>
    notNamespaces: list<string>
    serviceAccounts: list<string>
    notServiceAccounts: list<string>
    ipBlocks: list<string>
    notIpBlocks: list<string>
    remoteIpBlocks: list<string>
    notRemoteIpBlocks: list<string>
  Operation:
    hosts: list<string>
    notHosts: list<string>
    ports: list<string>
    notPorts: list<string>
    methods: list<string>
    notMethods: list<string>
    paths: list<string>
    notPaths: list<string>
  Condition:
    key: required string
    values: list<string>
    notValues: list<string>
)yaml"};

const SchemaSource kRequestAuthenticationSchema = {"schema_security.cpp (RequestAuthentication)", R"yaml(
kind: security.istio.io/RequestAuthentication
spec: RequestAuthentication
proto: true
types:
  RequestAuthentication:
    selector: WorkloadSelector
    targetRef: PolicyTargetReference
    targetRefs: list<PolicyTargetReference>
    jwtRules: list<JWTRule>
  JWTRule:
    issuer: required string
    audiences: list<string>
    jwksUri: string
    jwks: string
    fromHeaders: list<JWTHeader>
    fromParams: list<string>
    fromCookies: list<string>
    outputPayloadToHeader: string
    forwardOriginalToken: bool
    outputClaimToHeaders: list<ClaimToHeader>
    timeout: duration
  JWTHeader:
    name: required string
    prefix: string
  ClaimToHeader:
    header: required string
    claim: required string
)yaml"};

}  // namespace mesh::core::schema
