// Istio API types shared by several kinds (istio/api type/v1beta1/selector.proto and the
// networking/v1alpha3 messages that DestinationRule, Gateway, ServiceEntry and Sidecar share).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kIstioCommonSchema = {"schema_istio_common.cpp", R"yaml(
proto: true
types:
  # istio.type.v1beta1.WorkloadSelector (security, telemetry, DestinationRule)
  WorkloadSelector:
    matchLabels: map<string,string>
  # networking.v1alpha3.WorkloadSelector (Sidecar, ServiceEntry, EnvoyFilter)
  NetworkingWorkloadSelector:
    labels: map<string,string>
  PolicyTargetReference:
    group: string
    kind: required string
    name: required string
    namespace: string
  PortSelector:
    number: uint32
  Destination:
    host: required string
    subset: string
    port: PortSelector
  Percent:
    value: double
  ClientTLSSettings:
    mode: enum(DISABLE|SIMPLE|MUTUAL|ISTIO_MUTUAL)
    clientCertificate: string
    privateKey: string
    caCertificates: string
    credentialName: string
    subjectAltNames: list<string>
    sni: string
    insecureSkipVerify: bool
    caCrl: string
  ServerTLSSettings:
    httpsRedirect: bool
    mode: enum(PASSTHROUGH|SIMPLE|MUTUAL|AUTO_PASSTHROUGH|ISTIO_MUTUAL|OPTIONAL_MUTUAL)
    serverCertificate: string
    privateKey: string
    caCertificates: string
    caCrl: string
    credentialName: string
    credentialNames: list<string>
    tlsCertificates: list<TLSCertificate>
    subjectAltNames: list<string>
    verifyCertificateSpki: list<string>
    verifyCertificateHash: list<string>
    minProtocolVersion: TLSProtocol
    maxProtocolVersion: TLSProtocol
    cipherSuites: list<string>
  TLSCertificate:
    serverCertificate: string
    privateKey: string
    caCertificates: string
  TLSProtocol: enum(TLS_AUTO|TLSV1_0|TLSV1_1|TLSV1_2|TLSV1_3)
  ConnectionPoolSettings:
    tcp: TCPSettings
    http: HTTPSettings
  TCPSettings:
    maxConnections: int32
    connectTimeout: duration
    tcpKeepalive: TcpKeepalive
    maxConnectionDuration: duration
    idleTimeout: duration
  TcpKeepalive:
    probes: uint32
    time: duration
    interval: duration
  HTTPSettings:
    http1MaxPendingRequests: int32
    http2MaxRequests: int32
    maxRequestsPerConnection: int32
    maxRetries: int32
    idleTimeout: duration
    h2UpgradePolicy: enum(DEFAULT|DO_NOT_UPGRADE|UPGRADE)
    useClientProtocol: bool
    maxConcurrentStreams: int32
  # The WorkloadEntry spec; also ServiceEntry.endpoints and WorkloadGroup.template.
  WorkloadEntry:
    address: string
    ports: map<string,uint32>
    labels: map<string,string>
    network: string
    locality: string
    weight: uint32
    serviceAccount: string
)yaml"};

}  // namespace mesh::core::schema
