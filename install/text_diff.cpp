#include "install/text_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace mesh::install {
namespace {

constexpr size_t kContext = 3;

std::vector<std::string_view> splitLines(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
  }
  return out;
}

struct Edit {
  char op;   // ' ', '-', '+'
  size_t a;  // line index in a (for ' ' and '-')
  size_t b;  // line index in b (for ' ' and '+')
};

// Longest common subsequence by dynamic programming: profiles are a few hundred lines.
std::vector<Edit> editScript(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Edit> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) out.push_back({' ', i++, j++});
    // Deletions before insertions, as diff -u prints a changed line.
    else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]))
      out.push_back({'-', i++, j});
    else
      out.push_back({'+', i, j++});
  }
  return out;
}

}  // namespace

std::string unifiedDiff(std::string_view a, std::string_view b, std::string_view nameA, std::string_view nameB) {
  auto la = splitLines(a), lb = splitLines(b);
  std::vector<Edit> edits = editScript(la, lb);
  std::string out;
  size_t k = 0;
  while (k < edits.size()) {
    while (k < edits.size() && edits[k].op == ' ') ++k;
    if (k == edits.size()) break;
    // A hunk: from kContext lines before this change to kContext lines after the last change
    // that is no more than 2*kContext unchanged lines away.
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;
    while (end < edits.size()) {
      if (edits[end].op != ' ') {
        ++end;
        continue;
      }
      size_t run = end;
      while (run < edits.size() && edits[run].op == ' ') ++run;
      if (run == edits.size() || run - end > 2 * kContext) {
        end = std::min(end + kContext, run);
        break;
      }
      end = run;
    }
    size_t aStart = edits[start].a, bStart = edits[start].b, aCount = 0, bCount = 0;
    std::string body;
    for (size_t e = start; e < end; ++e) {
      const Edit& ed = edits[e];
      std::string_view line = ed.op == '+' ? lb[ed.b] : la[ed.a];
      body += fmt::format("{}{}\n", ed.op, line);
      if (ed.op != '+') ++aCount;
      if (ed.op != '-') ++bCount;
    }
    if (out.empty()) out = fmt::format("--- {}\n+++ {}\n", nameA, nameB);
    // diff -u numbers an empty range by the line before it.
    out += fmt::format("@@ -{},{} +{},{} @@\n", aCount ? aStart + 1 : aStart, aCount, bCount ? bStart + 1 : bStart,
                       bCount);
    out += body;
    k = end;
  }
  return out;
}

}  // namespace mesh::install
