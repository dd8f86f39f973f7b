#include "cli/proxy_config/unified_diff.h"

#include <doctest/doctest.h>

using mesh::cli::pc::unifiedDiff;

TEST_CASE("unified diff: nothing for equal input, difflib hunks otherwise") {
  CHECK(unifiedDiff("a\nb", "a\nb", "A", "B", 3).empty());
  CHECK(unifiedDiff("a\nb\nc", "a\nx\nc", "A", "B", 3) == "--- A\n+++ B\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n");
  CHECK(unifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n9", "1\n2\n3\n4\n5\n6\n7\n8\nX", "A", "B", 2) ==
        "--- A\n+++ B\n@@ -7,3 +7,3 @@\n 7\n 8\n-9\n+X\n");
  CHECK(unifiedDiff("a", "", "A", "B", 1) == "--- A\n+++ B\n@@ -1 +1 @@\n-a\n+\n");
}
