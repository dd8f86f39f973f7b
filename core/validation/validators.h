// The semantic validator of each kind: the rules Istio (pkg/config/validation) and Kubernetes
// apply beyond the schema. kinds.cpp puts them in its table; validate.h calls them after the
// schema check, so they read the tree defensively (fields.h) and report only their own rules.
// Stateless; any thread.
#pragma once

#include "core/validation/context.h"

namespace mesh::core {

// networking.istio.io
void validateVirtualService(const Resource& r, ValidationContext& ctx);
void validateDestinationRule(const Resource& r, ValidationContext& ctx);
void validateGateway(const Resource& r, ValidationContext& ctx);
void validateServiceEntry(const Resource& r, ValidationContext& ctx);
void validateSidecar(const Resource& r, ValidationContext& ctx);
void validateWorkloadEntry(const Resource& r, ValidationContext& ctx);
void validateWorkloadGroup(const Resource& r, ValidationContext& ctx);
void validateEnvoyFilter(const Resource& r, ValidationContext& ctx);
// security.istio.io
void validatePeerAuthentication(const Resource& r, ValidationContext& ctx);
void validateAuthorizationPolicy(const Resource& r, ValidationContext& ctx);
void validateRequestAuthentication(const Resource& r, ValidationContext& ctx);
// telemetry.istio.io
void validateTelemetry(const Resource& r, ValidationContext& ctx);
// gateway.networking.k8s.io
void validateKubeGateway(const Resource& r, ValidationContext& ctx);
void validateHttpRoute(const Resource& r, ValidationContext& ctx);
// Kubernetes core and apps
void validateService(const Resource& r, ValidationContext& ctx);
void validatePod(const Resource& r, ValidationContext& ctx);
void validateDeployment(const Resource& r, ValidationContext& ctx);
void validateEndpointSlice(const Resource& r, ValidationContext& ctx);

}  // namespace mesh::core
