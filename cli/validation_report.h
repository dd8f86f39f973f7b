// Loading and checking resources as `meshctl validate` does, shared by validate, apply and
// delete so the three accept and reject exactly the same input with the same messages.
// Main thread.
#pragma once

#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/loader.h"

namespace mesh::cli {

struct CheckedInput {
  core::LoadResult loaded;
  core::Diagnostics diagnostics;  // the loader's, then (when validating) Istio's rules'
  size_t errors = 0;
};

// Reads -f paths (files, directories, "-"); with `validate`, runs every validator too.
CheckedInput loadAndCheck(const std::vector<std::string>& files, bool recursive, bool validate);

// validate's text report on stderr: "Warning: ..." lines, then when there are errors
// "Error: N errors occurred:" and "\t* file:line:column: ..." per error.
void printDiagnostics(const CheckedInput& input);

}  // namespace mesh::cli
