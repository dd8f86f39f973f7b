// Validation of IstioOperator input: each file (profile or -f overlay) is checked as written,
// so every problem names file, line and field; the merged spec is checked again for what only
// the whole can show (gateway names clashing, autoscale bounds).
// Pure functions; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/diagnostic.h"
#include "core/result.h"
#include "core/validation/schema.h"

namespace mesh::install {

inline constexpr std::string_view kOperatorApiVersion = "install.istio.io/v1alpha1";
inline constexpr std::string_view kOperatorKind = "IstioOperator";

// The root type of an IstioOperator document and of its spec (core/validation's schema).
const core::schema::Type& operatorType();
const core::schema::Type& operatorSpecType();

// Parses and checks one IstioOperator document from `path`; returns it as JSON.
Result<nlohmann::json> readOperatorText(const std::string& path, std::string_view text);
// The same for a file on disk ("-" is stdin).
Result<nlohmann::json> readOperatorFile(const std::string& path);

// Checks `value` against `type`; findings carry `path` as their field and no file position.
core::Diagnostics checkValue(const core::schema::Type& type, const nlohmann::json& value, const std::string& path);

// Checks the merged IstioOperator: its schema, names, gateways defined twice, autoscale bounds.
Result<void> checkMerged(const nlohmann::json& iop);

// "what:\n\t* finding\n\t* finding": one error for many findings, as `validate` lists them.
Error findingsError(const std::string& what, const core::Diagnostics& findings);

}  // namespace mesh::install
