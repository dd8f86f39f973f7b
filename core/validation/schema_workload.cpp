// WorkloadEntry and WorkloadGroup, after istio/api networking/v1alpha3/workload_entry.proto and
// workload_group.proto (the WorkloadEntry message itself is in schema_istio_common.cpp).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kWorkloadEntrySchema = {"schema_workload.cpp (WorkloadEntry)", R"yaml(
kind: networking.istio.io/WorkloadEntry
spec: WorkloadEntry
proto: true
types: {}
)yaml"};

const SchemaSource kWorkloadGroupSchema = {"schema_workload.cpp (WorkloadGroup)", R"yaml(
kind: networking.istio.io/WorkloadGroup
spec: WorkloadGroup
proto: true
types:
  WorkloadGroup:
    metadata: WorkloadGroupObjectMeta
    template: required WorkloadEntry
    probe: ReadinessProbe
  WorkloadGroupObjectMeta:
    labels: map<string,string>
    annotations: map<string,string>
  ReadinessProbe:
    initialDelaySeconds: int32
    timeoutSeconds: int32
    periodSeconds: int32
    successThreshold: int32
    failureThreshold: int32
    httpGet: HTTPHealthCheckConfig
    tcpSocket: TCPHealthCheckConfig
    exec: ExecHealthCheckConfig
    grpc: GrpcHealthCheckConfig
    _oneof: [httpGet|tcpSocket|exec|grpc]
  HTTPHealthCheckConfig:
    path: string
    port: required uint32
    host: string
    scheme: string
    httpHeaders: list<ProbeHTTPHeader>
  ProbeHTTPHeader:
    name: string
    value: string
  TCPHealthCheckConfig:
    host: string
    port: required uint32
  ExecHealthCheckConfig:
    command: list<string>
  GrpcHealthCheckConfig:
    port: uint32
    service: string
)yaml"};

}  // namespace mesh::core::schema
