// Istio's analysis message catalogue: code, name, level and message template of every
// message `istioctl analyze` can print (istio pkg/config/analysis/msg/messages.yaml). One table
// feeds the analyzers, the output formats and docs/analysis-messages.md.
#pragma once

#include <span>
#include <string_view>

namespace mesh::analysis {

enum class Level { Info, Warning, Error };
std::string_view levelName(Level level);

struct MessageType {
  std::string_view code;  // "IST0101"
  std::string_view name;  // "ReferencedResourceNotFound"
  Level level;
  std::string_view format;  // Go fmt verbs: %s %v %q %d
};

std::span<const MessageType> allMessageTypes();
// By code or by name; nullptr when unknown.
const MessageType* findMessageType(std::string_view codeOrName);
// By name, for analyzers: the name must exist in the table (checked by a unit test).
const MessageType& messageType(std::string_view name);

}  // namespace mesh::analysis
