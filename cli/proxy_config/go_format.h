// Go's number formatting where istioctl's output depends on it: encoding/json and protojson
// print floats in shortest form ('f', or 'e' outside [1e-6, 1e21)); sigs.k8s.io/yaml prints
// them with strconv.FormatFloat(f, 'g', -1, 64). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mesh::cli::pc {

// encoding/json / protojson float text; bits is 32 or 64. NaN and infinities are not numbers
// in JSON: callers handle them.
std::string goJsonFloat(double value, int bits);
// strconv.FormatFloat(value, 'g', -1, 64).
std::string goFormatG(double value);
// Standard base64 with padding (encoding/json and protojson bytes).
std::string base64Encode(std::string_view bytes);

}  // namespace mesh::cli::pc
