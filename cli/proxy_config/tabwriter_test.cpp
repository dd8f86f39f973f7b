#include "cli/proxy_config/tabwriter.h"

#include <doctest/doctest.h>

using mesh::cli::pc::TabWriter;

namespace {

std::string format(std::string_view text, int padding = 1, int minwidth = 0) {
  TabWriter w(minwidth, 8, padding);
  w.write(text);
  return w.flush();
}

}  // namespace

TEST_CASE("tabwriter pads tab-terminated cells to the column width plus padding") {
  CHECK(format("a\tbbb\tc\naaaa\tb\tc\n", 1) == "a    bbb c\naaaa b   c\n");
  CHECK(format("NAME\tPORT\nx\t8080\n", 5) == "NAME     PORT\nx        8080\n");
}

TEST_CASE("tabwriter never pads the text after the last tab, so empty last cells leave trailing spaces") {
  CHECK(format("a\tb\n", 3) == "a   b\n");
  CHECK(format("aa\t\nb\tc\n", 2) == "aa  \nb   c\n");
}

TEST_CASE("tabwriter computes widths per block of consecutive lines that have the column") {
  // The second column exists only in lines 1 and 3, which are not consecutive.
  CHECK(format("a\tb\tc\nlonglong\tx\nd\te\tf\n", 1) == "a        b c\nlonglong x\nd        e f\n");
  CHECK(format("a\tb\tc\nxx\tyy\nd\tlonger\tf\n", 1) == "a  b c\nxx yy\nd  longer f\n");
}

TEST_CASE("tabwriter flushes at a line without tabs, which ends every column") {
  CHECK(format("a\tb\nheader\nlonger\tc\n", 1) == "a b\nheader\nlonger c\n");
}

TEST_CASE("tabwriter counts runes, not bytes, and honours minwidth") {
  CHECK(format("é\tx\nab\ty\n", 1) == "é  x\nab y\n");
  CHECK(format("a\tb\n", 1, 4) == "a   b\n");
}

TEST_CASE("tabwriter keeps text without a final newline") {
  CHECK(format("a\tb\nc", 1) == "a b\nc");
  CHECK(format("", 1).empty());
}
