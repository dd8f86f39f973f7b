// CustomResourceDefinitions for the Istio kinds meshd serves, generated from the same
// declarative schemas `meshctl validate` checks with (core/validation/schema_*.cpp), so the
// API server and meshctl agree on every field. The exporter turns a schema Type into a
// structural openAPIV3Schema: type, properties, items, additionalProperties, enum, required,
// oneOf for protobuf oneofs (in the not/anyOf form Istio's CRDs use), int-or-string, and
// x-kubernetes-preserve-unknown-fields where the schema is free-form. Pure; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "core/kinds.h"
#include "core/validation/schema.h"

namespace mesh::install {

// Every *.istio.io kind of core/kinds, in table order: the kinds meshd serves.
std::vector<const core::KindInfo*> istioKinds();

nlohmann::ordered_json openApiSchema(const core::schema::Type& type);

// The CRD's spec (group, names, scope, versions with schema, status subresource and printer
// columns). A kind without a declarative schema keeps its spec open
// (x-kubernetes-preserve-unknown-fields) and says so in `hasSchema`.
struct CrdSpec {
  nlohmann::ordered_json spec;
  bool hasSchema = false;
};
CrdSpec crdSpec(const core::KindInfo& kind);

}  // namespace mesh::install
