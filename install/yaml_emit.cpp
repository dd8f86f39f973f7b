#include "install/yaml_emit.h"

#include <yaml-cpp/yaml.h>

#include "core/yaml/node.h"

namespace mesh::install {
namespace {

void emitString(YAML::Emitter& out, const std::string& s) {
  bool multiLine = s.find('\n') != std::string::npos;
  bool literalSafe = multiLine && s.ends_with('\n') && !s.ends_with("\n\n") && s.front() != ' ' && s.front() != '\n' &&
                     s.find('\r') == std::string::npos;
  if (literalSafe) {
    // A literal block (`|`) reads back with exactly one trailing newline: give it the text
    // without it. Anything else multi-line is double-quoted, which is exact.
    out << YAML::Literal << s.substr(0, s.size() - 1);
  } else if (multiLine || core::resolvePlain(s) != core::ScalarKind::String) {
    out << YAML::DoubleQuoted << s;
  } else {
    out << s;
  }
}

void emit(YAML::Emitter& out, const nlohmann::ordered_json& v) {
  switch (v.type()) {
    case nlohmann::ordered_json::value_t::object:
      if (v.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [key, value] : v.items()) {
        out << YAML::Key;
        emitString(out, key);
        out << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::ordered_json::value_t::array:
      if (v.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : v) emit(out, item);
      out << YAML::EndSeq;
      return;
    case nlohmann::ordered_json::value_t::string: emitString(out, v.get_ref<const std::string&>()); return;
    case nlohmann::ordered_json::value_t::null: out << YAML::Null; return;
    default:
      // Numbers and booleans as JSON spells them: 1.0 stays a float, 0.1 stays 0.1.
      out << v.dump();
      return;
  }
}

}  // namespace

std::string toYaml(const nlohmann::ordered_json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

std::string toYamlStream(const std::vector<nlohmann::ordered_json>& documents) {
  std::string text;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) text += "---\n";
    text += toYaml(documents[i]);
  }
  return text;
}

}  // namespace mesh::install
