#include "core/yaml/convert.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

namespace mesh::core {
namespace {

void emit(YAML::Emitter& out, const Node& node) {
  switch (node.type()) {
    case NodeType::Null: out << YAML::Null; return;
    case NodeType::Scalar:
      if (node.text().find('\n') != std::string_view::npos) {
        out << YAML::Literal << std::string(node.text());
      } else if (node.style() != ScalarStyle::Plain && resolvePlain(node.text()) != ScalarKind::String) {
        // A string that would read back as a number, boolean or null keeps its quotes.
        out << YAML::DoubleQuoted << std::string(node.text());
      } else {
        out << std::string(node.text());
      }
      return;
    case NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const Node* item : node.items()) emit(out, *item);
      out << YAML::EndSeq;
      return;
    case NodeType::Mapping:
      out << YAML::BeginMap;
      for (const auto& e : node.entries()) {
        out << YAML::Key;
        emit(out, *e.key);
        out << YAML::Value;
        emit(out, *e.value);
      }
      out << YAML::EndMap;
      return;
  }
}

std::string keyText(const Node& key) { return std::string(key.text()); }

}  // namespace

nlohmann::json toJson(const Node& node) {
  switch (node.type()) {
    case NodeType::Null: return nullptr;
    case NodeType::Scalar:
      switch (node.scalarKind()) {
        case ScalarKind::Bool: return *node.asBool();
        case ScalarKind::Int: return *node.asInt();
        case ScalarKind::Float: {
          double d = *node.asDouble();
          if (std::isfinite(d)) return d;
          return std::string(node.text());  // JSON has no inf/nan
        }
        default: return std::string(node.text());
      }
    case NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const Node* item : node.items()) array.push_back(toJson(*item));
      return array;
    }
    case NodeType::Mapping: {
      // Keep the document's key order: ordered_json would change the type callers see, so
      // build an object and rely on the caller for order-insensitive use.
      nlohmann::json object = nlohmann::json::object();
      for (const auto& e : node.entries()) object[keyText(*e.key)] = toJson(*e.value);
      return object;
    }
  }
  return nullptr;
}

std::string toYaml(const Node& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, node);
  return std::string(out.c_str()) + "\n";
}

const Node* fromJson(Arena& arena, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return NodeFactory::scalar(arena, "null", ScalarStyle::Plain, {});
    case nlohmann::json::value_t::boolean:
      return NodeFactory::scalar(arena, value.get<bool>() ? "true" : "false", ScalarStyle::Plain, {});
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return NodeFactory::scalar(arena, value.dump(), ScalarStyle::Plain, {});
    case nlohmann::json::value_t::string:
      return NodeFactory::scalar(arena, value.get_ref<const std::string&>(), ScalarStyle::DoubleQuoted, {});
    case nlohmann::json::value_t::array: {
      std::vector<const Node*> items;
      items.reserve(value.size());
      for (const auto& v : value) items.push_back(fromJson(arena, v));
      return NodeFactory::sequence(arena, items, {});
    }
    case nlohmann::json::value_t::object: {
      std::vector<MapEntry> entries;
      entries.reserve(value.size());
      for (const auto& [k, v] : value.items())
        entries.push_back({NodeFactory::scalar(arena, k, ScalarStyle::DoubleQuoted, {}), fromJson(arena, v)});
      return NodeFactory::mapping(arena, entries, {});
    }
    default: return NodeFactory::scalar(arena, "null", ScalarStyle::Plain, {});
  }
}

bool sameValue(const Node& a, const Node& b) {
  if (a.isMapping() != b.isMapping() || a.isSequence() != b.isSequence()) return false;
  if (a.isSequence()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!sameValue(*a.items()[i], *b.items()[i])) return false;
    return true;
  }
  if (a.isMapping()) {
    if (a.size() != b.size()) return false;
    for (const auto& e : a.entries()) {
      const Node* other = b.get(e.key->text());
      if (!other || !sameValue(*e.value, *other)) return false;
    }
    return true;
  }
  if (a.scalarKind() != b.scalarKind()) return false;
  switch (a.scalarKind()) {
    case ScalarKind::Null: return true;
    case ScalarKind::Bool: return a.asBool() == b.asBool();
    case ScalarKind::Int: return a.asInt() == b.asInt();
    case ScalarKind::Float: return a.asDouble() == b.asDouble() || (std::isnan(*a.asDouble()) && std::isnan(*b.asDouble()));
    case ScalarKind::String: return a.text() == b.text();
  }
  return false;
}

}  // namespace mesh::core
