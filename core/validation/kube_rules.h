// Kubernetes rules shared by Service, Pod, Deployment and EndpointSlice validators (after
// k8s.io/apimachinery and k8s.io/kubernetes pkg/apis/core/validation). Stateless; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/validation/context.h"

namespace mesh::core::validation {

// IANA_SVC_NAME: at most 15 of [a-z0-9-], a letter somewhere, no leading, trailing or double '-'.
std::string checkIanaServiceName(std::string_view name);
// targetPort, probe ports: 1..65535 or an IANA service name.
void checkTargetPort(const Node* node, const std::string& path, ValidationContext& ctx);
// A PodSpec as in a Pod or a pod template.
void checkPodSpec(const Node* spec, const std::string& path, ValidationContext& ctx);
// A quantity ("500m", "1Gi", 2) as a number, for comparing requests and limits.
std::optional<long double> quantityValue(const Node* node);

}  // namespace mesh::core::validation
