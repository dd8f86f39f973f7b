// `proxy-config bootstrap`: the BootstrapConfigDump as JSON or YAML (the default is JSON), or
// with -o short the Istio / Istio Proxy / Envoy version lines (istioctl's configdump.go).
// Pure functions of the dump.
#pragma once

#include <string>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"

namespace mesh::cli::pc {

Result<std::string> bootstrapDump(const ConfigDumpView& dump, OutputFormat format);
Result<std::string> bootstrapSummary(const ConfigDumpView& dump);

}  // namespace mesh::cli::pc
