// Declarative schemas of the config kinds meshctl validates: one small YAML text per kind
// (core/validation/schema_<kind>.cpp) compiled into the binary and read once, on first use,
// into an immutable graph of Types. The generic checker (schema_check.h) walks it over user
// input; a CRD generator can walk the same graph to emit openAPIV3Schema.
// Built once under a function-local static; any thread may read it afterwards.
//
// Type expressions in the schema texts:
//   string int32 uint32 int64 bool double duration quantity intOrString any
//   enum(A|B|C)  list<T>  map<string,T>  map<uint32,T>  TypeName
//   a leading "required " marks a field that must be present.
// An object type is a YAML map of field name → type expression. The key `_oneof` lists groups
// of fields of which at most one may be set ("exact|prefix|regex"), as protobuf oneofs.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::core::schema {

enum class TypeKind {
  String,
  Int32,
  UInt32,
  Int64,
  Bool,
  Double,
  Duration,     // "1.5s", "100ms", "1h30m": Go's time.ParseDuration syntax, as Istio reads it
  Quantity,     // Kubernetes resource quantity: 500m, 1Gi, 2
  IntOrString,  // Kubernetes intstr (targetPort, maxSurge)
  Any,          // google.protobuf.Struct and other free-form values
  Enum,
  List,
  Map,
  Object,
};

struct Type;

struct Field {
  std::string name;
  const Type* type = nullptr;
  bool required = false;
};

struct Type {
  TypeKind kind = TypeKind::Any;
  std::string name;                      // named types; "" for anonymous ones (list<string>)
  std::vector<Field> fields;             // Object
  std::vector<std::vector<std::string>> oneofs;  // Object: at most one field of each group
  std::vector<std::string> enumValues;   // Enum
  const Type* element = nullptr;         // List element, Map value
  TypeKind keyKind = TypeKind::String;   // Map key: String or UInt32
  bool protoNames = false;               // Object from an Istio proto: snake_case spellings accepted

  const Field* field(std::string_view fieldName) const;
  // "string", "list<HTTPRoute>", "enum(A|B)": for messages and generated docs.
  std::string describe() const;
};

// The schema of one kind: the whole object (apiVersion, kind, metadata, spec, status) and the
// spec type alone (nullptr for kinds without a spec, such as EndpointSlice).
struct KindSchema {
  std::string group;  // "" for the core API group
  std::string kind;
  const Type* root = nullptr;
  const Type* spec = nullptr;
};

// nullptr when meshctl has no schema for the kind (it is then checked for metadata only).
const KindSchema* findSchema(std::string_view group, std::string_view kind);
std::span<const KindSchema> allSchemas();
// A named type from any schema text (for tests and generators); nullptr when unknown.
const Type* findType(std::string_view name);

// One schema text. `name` is the file it lives in, for messages about the schema itself.
struct SchemaSource {
  std::string_view name;
  std::string_view text;
};

}  // namespace mesh::core::schema
