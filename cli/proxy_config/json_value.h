// An ordered JSON tree whose numbers keep their text: the common form of everything
// proxy-config prints as JSON or YAML. Built from protobuf messages (proto_json.h) or parsed
// from a raw dump; printed like Go's encoding/json (here) or sigs.k8s.io/yaml (k8s_yaml.h).
// Plain value type; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace mesh::cli::pc {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // Number: its JSON text. String: the UTF-8 value, unescaped.
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;  // in order

  static JsonValue null() { return {}; }
  static JsonValue boolean_(bool b) {
    JsonValue v;
    v.kind = Kind::Bool;
    v.boolean = b;
    return v;
  }
  static JsonValue number(std::string t) {
    JsonValue v;
    v.kind = Kind::Number;
    v.text = std::move(t);
    return v;
  }
  static JsonValue string(std::string s) {
    JsonValue v;
    v.kind = Kind::String;
    v.text = std::move(s);
    return v;
  }
  static JsonValue array() {
    JsonValue v;
    v.kind = Kind::Array;
    return v;
  }
  static JsonValue object() {
    JsonValue v;
    v.kind = Kind::Object;
    return v;
  }

  void add(std::string key, JsonValue value) { members.emplace_back(std::move(key), std::move(value)); }
  void push(JsonValue value) { items.push_back(std::move(value)); }
  const JsonValue* find(std::string_view key) const;
};

// How strings are escaped: Go's encoding/json escapes <, > and & (and U+2028, U+2029) for
// HTML safety; protojson escapes DEL instead.
enum class GoEscape { EncodingJson, ProtoJson, ProtoJsonThenEncodingJson };

// A JSON string literal, quotes included, escaped as Go would.
std::string goQuote(std::string_view s, GoEscape style);

// Go's json.MarshalIndent(v, "", indent): one member per line, `"key": value`, and {} / []
// for empty containers. No trailing newline.
// `depth` starts the layout that many indents deep (for values nested in other output).
std::string toIndentedJson(const JsonValue& value, std::string_view indent, GoEscape style, int depth = 0);

// Parses JSON text (keeps member order and number text).
Result<JsonValue> parseJson(std::string_view text);

}  // namespace mesh::cli::pc
