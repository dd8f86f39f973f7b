// `authz check`: which AuthorizationPolicies a proxy enforces, read back from the RBAC filters
// of its dynamic listeners (istioctl's x authz check). Istio names each RBAC policy
// "ns[NAMESPACE]-policy[NAME]-rule[INDEX]"; the table lists ACTION, "NAME.NAMESPACE" and the
// number of distinct rules, DENY first, then ALLOW, then LOG. Pure function of the dump.
#pragma once

#include <string>

#include "cli/proxy_config/config_dump.h"

namespace mesh::cli::pc {

Result<std::string> authzCheck(const ConfigDumpView& dump);

}  // namespace mesh::cli::pc
