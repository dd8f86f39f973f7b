// A unified diff as github.com/pmezard/go-difflib writes it (a port of Python's difflib
// SequenceMatcher, autojunk included), for proxy-status's istiod-vs-Envoy comparison.
// Pure function.
#pragma once

#include <string>
#include <string_view>

namespace mesh::cli::pc {

// "" when a and b are equal; otherwise "--- fromFile\n+++ toFile\n@@ ... @@\n..." with
// `context` lines around each change. Lines keep their "\n"; the last line gets one.
std::string unifiedDiff(std::string_view a, std::string_view b, std::string_view fromFile, std::string_view toFile,
                        int context);

}  // namespace mesh::cli::pc
