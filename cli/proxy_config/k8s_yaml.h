// JSON to YAML exactly as sigs.k8s.io/yaml's JSONToYAML (go-yaml v2) writes it, which is what
// istioctl prints for -o yaml: keys sorted in go-yaml's order, block style with list items at
// the parent key's indentation, strings quoted when they would read as another type ("1.20",
// "2022-12-08T11:03:53Z"), single quotes for indicator characters ('@type'), literal blocks
// for multi-line text, plain scalars folded past column 80. Pure function.
#pragma once

#include <string>

#include "cli/proxy_config/json_value.h"

namespace mesh::cli::pc {

// The YAML document, ending in one newline.
std::string toK8sYaml(const JsonValue& value);

}  // namespace mesh::cli::pc
