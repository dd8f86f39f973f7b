// The generic schema checker: walks user YAML against a schema Type (schema.h) and reports
// wrong types, unknown fields (Istio decodes strictly and rejects them), missing required
// fields, values outside an enum, malformed durations and quantities, and oneof conflicts, each
// pinned to the offending node with its field path. Stateless; any thread.
#pragma once

#include <string>

#include "core/validation/context.h"
#include "core/validation/schema.h"

namespace mesh::core::schema {

// Checks `node`, found at `path` ("" for a document root), against `type`.
void check(const Type& type, const Node& node, const std::string& path, ValidationContext& ctx);

}  // namespace mesh::core::schema
