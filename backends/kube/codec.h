// Small encoders the Kubernetes client needs: base64 for kubeconfig's *-data fields and the
// exec plugin's spec, and a JSON parser with a nesting limit, so a hostile or broken server
// cannot make us recurse without bound. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mesh::backends::kube {

// Standard alphabet with padding, as Go's encoding/base64.StdEncoding; CR and LF are skipped
// (Go skips them too). nullopt on any other malformed input.
std::optional<std::string> base64Decode(std::string_view text);
std::string base64Encode(std::string_view bytes);

struct JsonLimits {
  size_t maxDepth = 256;  // the same bound core's YAML parser keeps
};

// InvalidInput naming `what` ("response from GET /api/v1/pods") when the text is not JSON or
// nests deeper than the limit. The text itself never goes into the message: it may hold secrets.
Result<nlohmann::json> parseJson(std::string_view text, std::string_view what,
                                 const JsonLimits& limits = {});

// Reads a string member; "" when absent or not a string.
std::string stringAt(const nlohmann::json& object, std::string_view key);

}  // namespace mesh::backends::kube
