// Istio Gateway, after istio/api networking/v1alpha3/gateway.proto.
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kGatewaySchema = {"schema_gateway.cpp", R"yaml(
kind: networking.istio.io/Gateway
spec: Gateway
proto: true
types:
  Gateway:
    servers: required list<Server>
    selector: map<string,string>
  Server:
    port: required Port
    bind: string
    hosts: required list<string>
    tls: ServerTLSSettings
    defaultEndpoint: string
    name: string
  # number may be 0 (left out) when bind is a unix domain socket.
  Port:
    number: uint32
    protocol: required string
    name: required string
    targetPort: uint32
)yaml"};

}  // namespace mesh::core::schema
