// A YAML value under construction: the Istio Gateways and VirtualServices the Gateway API
// conversion generates are assembled as Values (so rules can still be sorted and amended), then
// written once into a fresh core::Tree through NodeFactory. Every Value carries the Mark of the
// Gateway API field it came from, so findings on generated objects point at the user's YAML.
// Used by one conversion call on one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/resource.h"
#include "core/yaml/node.h"

namespace mesh::model::gateway_api {

// The mark of a node, or line 0 when there is none.
inline core::Mark markOf(const core::Node* n) { return n ? n->mark() : core::Mark{}; }
// The mark of `map`'s field `key`, or of `map` itself when the field is absent (defaulted).
inline core::Mark markAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n ? n->mark() : markOf(map);
}

class Value {
 public:
  enum class Type : uint8_t { String, Number, Bool, List, Map };

  static Value string(std::string_view s, core::Mark m = {}) { return Value(Type::String, std::string(s), m); }
  static Value number(int64_t n, core::Mark m = {}) { return Value(Type::Number, std::to_string(n), m); }
  // Shortest text that reads back as the same double ("10", "33.333333333333336").
  static Value decimal(double d, core::Mark m = {});
  static Value boolean(bool b, core::Mark m = {}) { return Value(Type::Bool, b ? "true" : "false", m); }
  static Value list(core::Mark m = {}) { return Value(Type::List, {}, m); }
  static Value map(core::Mark m = {}) { return Value(Type::Map, {}, m); }
  // A list of strings, all with mark `m`.
  static Value strings(const std::vector<std::string>& items, core::Mark m = {});

  Type type() const { return type_; }
  const std::string& text() const { return text_; }
  core::Mark mark() const { return mark_; }
  bool empty() const { return items_.empty() && entries_.empty(); }

  // Map: sets `key` (replacing an earlier value), returns the stored value.
  Value& set(std::string_view key, Value v);
  // Map: the value under `key`, or nullptr.
  Value* find(std::string_view key);
  const Value* find(std::string_view key) const;
  // List: appends, returns the stored value.
  Value& push(Value v);
  std::vector<Value>& items() { return items_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

  // Writes the value into `arena` as tree nodes.
  const core::Node* emit(core::Arena& arena) const;

 private:
  Value(Type t, std::string text, core::Mark m) : type_(t), text_(std::move(text)), mark_(m) {}

  Type type_;
  std::string text_;
  core::Mark mark_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> entries_;
};

// A Resource over a new Tree holding `root`. The Tree is named
// "<origin file> (generated from <Kind> <ns>/<name>)" so every finding names its source file,
// and the nodes keep the marks of the Gateway API fields they came from.
core::Resource makeResource(const Value& root, const core::Resource& origin);

}  // namespace mesh::model::gateway_api
