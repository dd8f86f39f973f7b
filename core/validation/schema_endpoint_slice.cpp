// Kubernetes EndpointSlice (discovery.k8s.io/v1): fields sit at the top level, beside metadata.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kEndpointSliceSchema = {"schema_endpoint_slice.cpp", R"yaml(
kind: discovery.k8s.io/EndpointSlice
root: EndpointSliceFields
types:
  EndpointSliceFields:
    addressType: required enum(IPv4|IPv6|FQDN)
    endpoints: required list<Endpoint>
    ports: list<EndpointPort>
  Endpoint:
    addresses: required list<string>
    conditions: EndpointConditions
    hostname: string
    targetRef: ObjectReference
    deprecatedTopology: map<string,string>
    nodeName: string
    zone: string
    hints: EndpointHints
  EndpointConditions:
    ready: bool
    serving: bool
    terminating: bool
  EndpointHints:
    forZones: list<ForZone>
    forNodes: list<ForNode>
  ForZone:
    name: required string
  ForNode:
    name: required string
  EndpointPort:
    name: string
    protocol: Protocol
    port: int32
    appProtocol: string
)yaml"};

}  // namespace mesh::core::schema
