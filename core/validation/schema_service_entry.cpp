// ServiceEntry, after istio/api networking/v1alpha3/service_entry.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kServiceEntrySchema = {"schema_service_entry.cpp", R"yaml(
kind: networking.istio.io/ServiceEntry
spec: ServiceEntry
proto: true
types:
  ServiceEntry:
    hosts: required list<string>
    addresses: list<string>
    ports: list<ServicePort>
    location: enum(MESH_EXTERNAL|MESH_INTERNAL)
    resolution: enum(NONE|STATIC|DNS|DNS_ROUND_ROBIN)
    endpoints: list<WorkloadEntry>
    workloadSelector: NetworkingWorkloadSelector
    exportTo: list<string>
    subjectAltNames: list<string>
  ServicePort:
    number: required uint32
    protocol: string
    name: required string
    targetPort: uint32
)yaml"};

}  // namespace mesh::core::schema
