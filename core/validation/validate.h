// Validation of resources as loaded from files or a cluster: kind and version known, metadata as
// Kubernetes requires it, the kind's declarative schema (schema.h), then the kind's semantic
// rules from Istio and Kubernetes (validators.h, wired in through KindInfo::validate).
// Findings come back as Diagnostics pinned to file:line:column and a field path.
// Stateless; any thread may validate any resources concurrently.
#pragma once

#include <span>

#include "core/diagnostic.h"
#include "core/resource.h"

namespace mesh::core {

Diagnostics validateResource(const Resource& resource);
Diagnostics validateAll(std::span<const Resource> resources);

}  // namespace mesh::core
