// Telemetry, after istio/api telemetry/v1alpha1/telemetry.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kTelemetrySchema = {"schema_telemetry.cpp", R"yaml(
kind: telemetry.istio.io/Telemetry
spec: Telemetry
proto: true
types:
  Telemetry:
    selector: WorkloadSelector
    targetRef: PolicyTargetReference
    targetRefs: list<PolicyTargetReference>
    tracing: list<Tracing>
    metrics: list<Metrics>
    accessLogging: list<AccessLogging>
  WorkloadMode: enum(CLIENT_AND_SERVER|CLIENT|SERVER)
  ProviderRef:
    name: required string
  Tracing:
    match: TracingSelector
    providers: list<ProviderRef>
    randomSamplingPercentage: double
    disableSpanReporting: bool
    customTags: map<string,TracingCustomTag>
    useRequestIdForTraceSampling: bool
    enableIstioTags: bool
  TracingSelector:
    mode: WorkloadMode
  TracingCustomTag:
    literal: TracingLiteral
    environment: TracingEnvironment
    header: TracingRequestHeader
    _oneof: [literal|environment|header]
  TracingLiteral:
    value: string
  TracingEnvironment:
    name: required string
    defaultValue: string
  TracingRequestHeader:
    name: required string
    defaultValue: string
  Metrics:
    providers: list<ProviderRef>
    overrides: list<MetricsOverrides>
    reportingInterval: duration
  MetricsOverrides:
    match: MetricSelector
    disabled: bool
    tagOverrides: map<string,TagOverride>
  MetricSelector:
    metric: enum(ALL_METRICS|REQUEST_COUNT|REQUEST_DURATION|REQUEST_SIZE|RESPONSE_SIZE|TCP_OPENED_CONNECTIONS|TCP_CLOSED_CONNECTIONS|TCP_SENT_BYTES|TCP_RECEIVED_BYTES|GRPC_REQUEST_MESSAGES|GRPC_RESPONSE_MESSAGES)
    customMetric: string
    mode: WorkloadMode
    _oneof: [metric|customMetric]
  TagOverride:
    operation: enum(UPSERT|REMOVE)
    value: string
  AccessLogging:
    match: AccessLoggingSelector
    providers: list<ProviderRef>
    disabled: bool
    filter: AccessLoggingFilter
  AccessLoggingSelector:
    mode: WorkloadMode
  AccessLoggingFilter:
    expression: string
)yaml"};

}  // namespace mesh::core::schema
