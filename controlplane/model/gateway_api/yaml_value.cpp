#include "controlplane/model/gateway_api/yaml_value.h"

#include <memory>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "core/kinds.h"

namespace mesh::model::gateway_api {

Value Value::decimal(double d, core::Mark m) { return Value(Type::Number, fmt::format("{}", d), m); }

Value Value::strings(const std::vector<std::string>& items, core::Mark m) {
  Value out = list(m);
  for (const std::string& s : items) out.push(string(s, m));
  return out;
}

Value& Value::set(std::string_view key, Value v) {
  for (auto& [k, existing] : entries_)
    if (k == key) return existing = std::move(v);
  entries_.emplace_back(std::string(key), std::move(v));
  return entries_.back().second;
}

Value* Value::find(std::string_view key) {
  for (auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

Value& Value::push(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

const core::Node* Value::emit(core::Arena& arena) const {
  switch (type_) {
    case Type::String: {
      // Quote whatever would otherwise read as null, a boolean or a number ("80", "true", "").
      bool plain = core::resolvePlain(text_) == core::ScalarKind::String;
      return core::NodeFactory::scalar(arena, text_, plain ? core::ScalarStyle::Plain : core::ScalarStyle::DoubleQuoted,
                                       mark_);
    }
    case Type::Number:
    case Type::Bool: return core::NodeFactory::scalar(arena, text_, core::ScalarStyle::Plain, mark_);
    case Type::List: {
      std::vector<const core::Node*> nodes;
      nodes.reserve(items_.size());
      for (const Value& v : items_) nodes.push_back(v.emit(arena));
      return core::NodeFactory::sequence(arena, nodes, mark_);
    }
    case Type::Map: {
      std::vector<core::MapEntry> entries;
      entries.reserve(entries_.size());
      for (const auto& [k, v] : entries_)
        entries.push_back({core::NodeFactory::scalar(arena, k, core::ScalarStyle::Plain, v.mark_), v.emit(arena)});
      return core::NodeFactory::mapping(arena, entries, mark_);
    }
  }
  return nullptr;
}

core::Resource makeResource(const Value& root, const core::Resource& origin) {
  std::string source = fmt::format("{} {}/{}", origin.kind(), origin.namespace_(), origin.name());
  std::string path = origin.file().empty() ? fmt::format("(generated from {})", source)
                                           : fmt::format("{} (generated from {})", origin.file(), source);
  auto tree = std::make_shared<core::Tree>(std::move(path));
  const core::Node* node = root.emit(tree->arena());
  auto [group, version] = core::splitApiVersion(text(node, "apiVersion"));
  (void)version;
  const core::KindInfo* info = core::findKind(group, text(node, "kind"));
  return core::Resource(std::move(tree), node, info, origin.namespace_());
}

}  // namespace mesh::model::gateway_api
