// A unified diff of two texts, line by line (for `profile diff`): "--- a", "+++ b", then hunks
// "@@ -l,n +l,n @@" with three lines of context, as diff -u prints them. Empty when the texts
// are equal. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace mesh::install {

std::string unifiedDiff(std::string_view a, std::string_view b, std::string_view nameA, std::string_view nameB);

}  // namespace mesh::install
