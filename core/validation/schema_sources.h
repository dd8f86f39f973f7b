// The schema texts compiled into meshctl, one per kind plus shared types (see schema.h for the
// format). schema_sources.cpp lists them in one table: adding a kind's schema means adding a
// file and a row there.
#pragma once

#include <span>
#include <vector>

#include "core/validation/schema.h"

namespace mesh::core::schema {

extern const SchemaSource kKubeCommonSchema;
extern const SchemaSource kIstioCommonSchema;
extern const SchemaSource kVirtualServiceSchema;
extern const SchemaSource kDestinationRuleSchema;
extern const SchemaSource kGatewaySchema;
extern const SchemaSource kServiceEntrySchema;
extern const SchemaSource kSidecarSchema;
extern const SchemaSource kWorkloadEntrySchema;
extern const SchemaSource kWorkloadGroupSchema;
extern const SchemaSource kEnvoyFilterSchema;
extern const SchemaSource kPeerAuthenticationSchema;
extern const SchemaSource kAuthorizationPolicySchema;
extern const SchemaSource kRequestAuthenticationSchema;
extern const SchemaSource kTelemetrySchema;
extern const SchemaSource kKubeGatewaySchema;
extern const SchemaSource kHttpRouteSchema;
extern const SchemaSource kServiceSchema;
extern const SchemaSource kPodSchema;
extern const SchemaSource kNamespaceSchema;
extern const SchemaSource kDeploymentSchema;
extern const SchemaSource kEndpointSliceSchema;
extern const SchemaSource kIstioOperatorSchema;

std::span<const SchemaSource> allSources();

}  // namespace mesh::core::schema
