// `proxy-config listener`: the ADDRESSES / PORT / MATCH / DESTINATION table (TYPE without
// --verbose) and the -o json|yaml dump of the listeners in a config dump (istioctl's
// listener.go). Pure functions of the dump.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"
#include "envoy/config/listener/v3/listener.pb.h"

namespace mesh::cli::pc {

struct ListenerFilter {
  std::string address;  // any of the listener's addresses, case-insensitive
  uint32_t port = 0;
  std::string type;  // HTTP, TCP, HTTP+TCP or UNKNOWN, case-insensitive
  bool verbose = true;
  bool verify(const envoy::config::listener::v3::Listener& listener) const;
};

// Dynamic (active) then static listeners, in dump order.
Result<std::vector<envoy::config::listener::v3::Listener>> dumpListeners(const ConfigDumpView& dump);

// namePrefix adds the NAME column with "listener/<name>" (proxy-config all).
Result<std::string> listenerSummary(const ConfigDumpView& dump, const ListenerFilter& filter, bool namePrefix);
Result<std::string> listenerDump(const ConfigDumpView& dump, const ListenerFilter& filter, OutputFormat format);

}  // namespace mesh::cli::pc
