// YAML text for rendered manifests and dumped profiles, through yaml-cpp's emitter. Keys keep
// the order of the ordered_json they come from (apiVersion, kind, metadata, spec...), so the
// same input always gives the same bytes. Strings that would read back as another type
// ("100", "true", "yes", "~") are quoted. Pure functions; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mesh::install {

// One document, ending in a newline.
std::string toYaml(const nlohmann::ordered_json& value);
// Documents separated by `---` lines, as `kubectl apply -f` reads them.
std::string toYamlStream(const std::vector<nlohmann::ordered_json>& documents);

}  // namespace mesh::install
