// `proxy-status`: each proxy's xDS sync state from istiod's istio.io/debug/syncz answers
// (istioctl's writer/pilot/status.go). The table lists NAME / CLUSTER / ISTIOD / VERSION and the
// subscribed types; --verbosity 1 shows one column per type instead. -o json|yaml prints the
// DiscoveryResponses themselves. Pure function of the responses.
#pragma once

#include <string>

#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/output.h"

namespace mesh::cli::pc {

struct SyncStatusOptions {
  OutputFormat format = OutputFormat::Short;  // Short is the table
  int verbosity = 0;
  std::string ns;     // only proxies whose node metadata NAMESPACE is this
  std::string proxy;  // only proxies whose ID contains this (table)
};

std::string syncStatus(const SynczResponses& responses, const SyncStatusOptions& options);

// "CDS" for the Cluster type URL, and so on; the URL itself for types without a short name.
std::string shortXdsType(const std::string& typeUrl);

}  // namespace mesh::cli::pc
