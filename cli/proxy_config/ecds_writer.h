// `proxy-config ecds`: the ECDS NAME / TYPE table and the EcdsConfigDump (all ECDS sections
// merged) as JSON or YAML (istioctl's ecds.go). Pure functions of the dump.
#pragma once

#include <string>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"

namespace mesh::cli::pc {

Result<std::string> ecdsSummary(const ConfigDumpView& dump);
Result<std::string> ecdsDump(const ConfigDumpView& dump, OutputFormat format);

}  // namespace mesh::cli::pc
