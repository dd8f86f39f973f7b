#include "cli/proxy_config/output.h"

#include "cli/proxy_config/k8s_yaml.h"
#include "cli/proxy_config/legacy_jsonpb.h"
#include "cli/proxy_config/proto_json.h"

namespace mesh::cli::pc {

std::string printMessageList(const std::vector<const google::protobuf::Message*>& messages, OutputFormat format) {
  JsonValue list = JsonValue::array();
  for (const auto* m : messages) list.push(protoToJson(*m));
  if (format == OutputFormat::Yaml) return toK8sYaml(list) + "\n";
  // protojson writes each element, then encoding/json compacts it (escaping <, >, &) and indents.
  return toIndentedJson(list, "    ", GoEscape::ProtoJsonThenEncodingJson) + "\n";
}

std::string printProtoJson(const google::protobuf::Message& message, OutputFormat format) {
  JsonValue value = protoToJson(message);
  if (format == OutputFormat::Yaml) return toK8sYaml(value) + "\n";
  return toIndentedJson(value, "    ", GoEscape::ProtoJson) + "\n";
}

std::string printLegacyJson(const google::protobuf::Message& message, OutputFormat format) {
  // YAML re-reads the JSON, so the jsonpb layout quirks do not matter there.
  if (format == OutputFormat::Yaml) return toK8sYaml(protoToJson(message)) + "\n";
  return legacyJsonpb(message, "    ") + "\n";
}

}  // namespace mesh::cli::pc
