// Which xDS types a change to one kind of config can alter (Istio's per-type "needs push"
// checks). The push loop pushes only those types; `wait` checks only those types of a proxy.
// Pure function.
#pragma once

#include <set>
#include <string>

#include "core/store/config_store.h"

namespace mesh::server {

// Type URLs; the empty set means every type. Unknown kinds and kinds that change which
// services exist (Service, ServiceEntry, Sidecar) touch everything. A WorkloadEntry changes
// EDS, and CDS too when a DNS ServiceEntry carries it inline (the push loop checks that).
std::set<std::string, std::less<>> typesAffectedBy(const core::ResourceKey& key);

}  // namespace mesh::server
