// Go's text/tabwriter, byte for byte: istioctl prints every table through it, and scripts
// parse those tables. Cells end with '\t'; the text after a line's last tab is not part of a
// column and is never padded; column widths are computed per block of consecutive lines that
// have the column; a line without tabs ends all blocks (Go flushes there).
// Supported: padchar ' ' (or '\t'), minwidth, tabwidth, padding; flags are always 0.
// Not thread-safe; one writer per table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::cli::pc {

class TabWriter {
 public:
  TabWriter(int minwidth, int tabwidth, int padding, char padchar = ' ')
      : minwidth_(minwidth), tabwidth_(tabwidth), padding_(padding), padchar_(padchar) {}

  // Appends text; formatted output accumulates in out().
  void write(std::string_view text);
  // Formats whatever is buffered (Go's Flush) and returns all output so far.
  const std::string& flush();
  const std::string& out() const { return out_; }

 private:
  struct Cell {
    size_t size = 0;   // bytes
    size_t width = 0;  // runes
    bool htab = false;
  };
  using Line = std::vector<Cell>;

  void terminateCell(bool htab);
  void flushBuffered();
  size_t format(size_t pos, size_t line0, size_t line1);
  size_t writeLines(size_t pos, size_t line0, size_t line1);
  void writePadding(size_t textw, size_t cellw);

  int minwidth_, tabwidth_, padding_;
  char padchar_;
  std::string buf_;  // text of all buffered cells
  Cell cell_;        // the cell being collected
  std::vector<Line> lines_{Line{}};
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace mesh::cli::pc
