#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

std::span<const SchemaSource> allSources() {
  static const SchemaSource* const kSources[] = {
      &kKubeCommonSchema,         &kIstioCommonSchema,      &kVirtualServiceSchema,
      &kDestinationRuleSchema,    &kGatewaySchema,          &kServiceEntrySchema,
      &kSidecarSchema,            &kWorkloadEntrySchema,    &kWorkloadGroupSchema,
      &kEnvoyFilterSchema,        &kPeerAuthenticationSchema, &kAuthorizationPolicySchema,
      &kRequestAuthenticationSchema, &kTelemetrySchema,     &kKubeGatewaySchema,
      &kHttpRouteSchema,          &kServiceSchema,          &kPodSchema,
      &kNamespaceSchema,          &kDeploymentSchema,       &kEndpointSliceSchema,    &kIstioOperatorSchema,
  };
  // Copied once into a contiguous array (the sources are constants in other files).
  static const std::vector<SchemaSource> sources = [] {
    std::vector<SchemaSource> v;
    for (const SchemaSource* s : kSources) v.push_back(*s);
    return v;
  }();
  return sources;
}

}  // namespace mesh::core::schema
