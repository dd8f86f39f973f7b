#include "cli/proxy_config/tabwriter.h"

namespace mesh::cli::pc {
namespace {

size_t runeCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

void TabWriter::terminateCell(bool htab) {
  cell_.htab = htab;
  lines_.back().push_back(cell_);
  cell_ = Cell{};
}

void TabWriter::write(std::string_view text) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f') continue;
    std::string_view piece = text.substr(start, i - start);
    buf_.append(piece);
    cell_.size += piece.size();
    cell_.width += runeCount(piece);
    start = i + 1;
    terminateCell(ch == '\t');
    size_t ncells = lines_.back().size();
    if (ch == '\n' || ch == '\f') {
      lines_.emplace_back();
      // A line of one cell cannot affect later columns (the last cell of a line belongs to
      // no column), so Go flushes here; this also ends every column block.
      if (ch == '\f' || ncells == 1) flushBuffered();
    }
  }
  std::string_view rest = text.substr(start);
  buf_.append(rest);
  cell_.size += rest.size();
  cell_.width += runeCount(rest);
}

const std::string& TabWriter::flush() {
  flushBuffered();
  return out_;
}

void TabWriter::flushBuffered() {
  if (cell_.size > 0) terminateCell(false);
  format(0, 0, lines_.size());
  buf_.clear();
  cell_ = Cell{};
  lines_.assign(1, Line{});
  widths_.clear();
}

size_t TabWriter::format(size_t pos, size_t line0, size_t line1) {
  size_t column = widths_.size();
  for (size_t current = line0; current < line1; ++current) {
    if (column + 1 >= lines_[current].size()) continue;
    // This line has a cell in `column`: print the lines before it, then find the block.
    pos = writeLines(pos, line0, current);
    line0 = current;
    size_t width = static_cast<size_t>(minwidth_);
    for (; current < line1; ++current) {
      const Line& line = lines_[current];
      if (column + 1 >= line.size()) break;
      size_t w = line[column].width + static_cast<size_t>(padding_);
      if (w > width) width = w;
    }
    widths_.push_back(width);
    pos = format(pos, line0, current);
    widths_.pop_back();
    line0 = current;
  }
  return writeLines(pos, line0, line1);
}

size_t TabWriter::writeLines(size_t pos, size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; ++i) {
    const Line& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      const Cell& c = line[j];
      if (c.size > 0) {
        out_.append(buf_, pos, c.size);
        pos += c.size;
      }
      if (j < widths_.size()) writePadding(c.width, widths_[j]);
    }
    if (i + 1 == lines_.size()) {
      // The last buffered line has no newline: write the cell still being collected.
      out_.append(buf_, pos, cell_.size);
      pos += cell_.size;
    } else {
      out_ += '\n';
    }
  }
  return pos;
}

void TabWriter::writePadding(size_t textw, size_t cellw) {
  if (padchar_ == '\t') {
    if (tabwidth_ == 0) return;
    size_t tw = static_cast<size_t>(tabwidth_);
    cellw = (cellw + tw - 1) / tw * tw;
    size_t n = cellw - textw;
    out_.append((n + tw - 1) / tw, '\t');
    return;
  }
  if (cellw > textw) out_.append(cellw - textw, padchar_);
}

}  // namespace mesh::cli::pc
