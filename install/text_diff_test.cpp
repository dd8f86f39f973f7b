#include "install/text_diff.h"

#include <doctest/doctest.h>

using mesh::install::unifiedDiff;

TEST_CASE("unified diff: nothing for equal texts, diff -u hunks otherwise") {
  CHECK(unifiedDiff("a\nb\n", "a\nb\n", "x", "y").empty());
  // Seven unchanged lines apart: two hunks, three lines of context each.
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n";
  std::string b = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n11\n12\n13\nfourteen\n";
  CHECK(unifiedDiff(a, b, "default", "demo") ==
        "--- default\n+++ demo\n"
        "@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9\n"
        "@@ -11,3 +11,4 @@\n 11\n 12\n 13\n+fourteen\n");
  // Six apart: the contexts touch and diff -u prints one hunk.
  std::string c = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n11\n12\n13\n";
  CHECK(unifiedDiff(a, c + "", "a", "c").find("@@ -3,7 +3,7 @@") != std::string::npos);
  std::string d = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n11\n12\nthirteen\n";
  CHECK(unifiedDiff(a, d, "a", "d").find("@@ -3,11 +3,11 @@\n") != std::string::npos);
  // Changes closer than twice the context share a hunk.
  CHECK(unifiedDiff("a\nb\nc\nd\n", "A\nb\nc\nD\n", "x", "y") ==
        "--- x\n+++ y\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n-d\n+D\n");
  CHECK(unifiedDiff("", "new\n", "x", "y") == "--- x\n+++ y\n@@ -0,0 +1,1 @@\n+new\n");
}
