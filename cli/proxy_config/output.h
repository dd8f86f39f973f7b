// The three ways proxy-config prints structured data, each matching one istioctl code path,
// with the trailing newline of Go's fmt.Fprintln included. Pure functions.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "cli/proxy_config/json_value.h"

namespace mesh::cli::pc {

enum class OutputFormat { Short, Json, Yaml };

// json.MarshalIndent of a protomarshal.MessageSlice (4 spaces), or that JSON as YAML: the
// -o json|yaml of cluster, listener, route, endpoint and eds.
std::string printMessageList(const std::vector<const google::protobuf::Message*>& messages, OutputFormat format);
// protojson with a 4-space indent, or YAML: ecds.
std::string printProtoJson(const google::protobuf::Message& message, OutputFormat format);
// Legacy jsonpb with a 4-space indent, or YAML: bootstrap, secret, proxy-status.
std::string printLegacyJson(const google::protobuf::Message& message, OutputFormat format);

}  // namespace mesh::cli::pc
