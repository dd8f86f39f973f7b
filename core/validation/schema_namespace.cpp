// Kubernetes Namespace (core/v1 NamespaceSpec).
#include "core/validation/schema_sources.h"

namespace mesh::core::schema {

const SchemaSource kNamespaceSchema = {"schema_namespace.cpp", R"yaml(
kind: Namespace
spec: NamespaceSpec
types:
  NamespaceSpec:
    finalizers: list<string>
)yaml"};

}  // namespace mesh::core::schema
