// The JSON of github.com/golang/protobuf's legacy jsonpb Marshaler with an indent, which
// istioctl still uses for `proxy-config bootstrap|secret -o json`, `proxy-status -o json` and
// the istiod/Envoy diff. Its layout differs from encoding/json in one visible way: the entries
// of google.protobuf.Struct values (node metadata) are indented one level deeper, and their
// closing brace one level less deep. Reproduced, not "fixed", so outputs compare equal.
// Pure function of its input.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace mesh::cli::pc {

// jsonpb.Marshaler{Indent: indent}.MarshalToString(message); no trailing newline.
std::string legacyJsonpb(const google::protobuf::Message& message, std::string_view indent);

}  // namespace mesh::cli::pc
