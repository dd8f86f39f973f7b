#include "cli/proxy_config/unified_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace mesh::cli::pc {
namespace {

// difflib.SplitLines: split after each "\n", and end the last line with "\n".
std::vector<std::string> splitLines(std::string_view s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      lines.emplace_back(s.substr(start, i + 1 - start));
      start = i + 1;
    }
  }
  lines.emplace_back(s.substr(start));
  lines.back() += "\n";
  return lines;
}

struct Match {
  size_t a, b, size;
};

struct OpCode {
  char tag;  // 'r'eplace, 'd'elete, 'i'nsert, 'e'qual
  size_t i1, i2, j1, j2;
};

class SequenceMatcher {
 public:
  SequenceMatcher(const std::vector<std::string>& a, const std::vector<std::string>& b) : a_(a), b_(b) {
    for (size_t i = 0; i < b_.size(); ++i) b2j_[b_[i]].push_back(i);
    // Autojunk: in long sequences, lines that occur in more than 1% of b are not anchors.
    size_t n = b_.size();
    if (n >= 200) {
      size_t ntest = n / 100 + 1;
      for (auto it = b2j_.begin(); it != b2j_.end();) {
        if (it->second.size() > ntest)
          it = b2j_.erase(it);
        else
          ++it;
      }
    }
  }

  Match findLongestMatch(size_t alo, size_t ahi, size_t blo, size_t bhi) const {
    size_t besti = alo, bestj = blo, bestsize = 0;
    std::unordered_map<size_t, size_t> j2len;
    for (size_t i = alo; i < ahi; ++i) {
      std::unordered_map<size_t, size_t> newj2len;
      auto found = b2j_.find(a_[i]);
      if (found != b2j_.end()) {
        for (size_t j : found->second) {
          if (j < blo) continue;
          if (j >= bhi) break;
          size_t prev = 0;
          if (j > 0) {
            auto p = j2len.find(j - 1);
            if (p != j2len.end()) prev = p->second;
          }
          size_t k = prev + 1;
          newj2len[j] = k;
          if (k > bestsize) {
            besti = i - k + 1;
            bestj = j - k + 1;
            bestsize = k;
          }
        }
      }
      j2len = std::move(newj2len);
    }
    // No junk set: extend the match over equal neighbours (popular lines included).
    while (besti > alo && bestj > blo && a_[besti - 1] == b_[bestj - 1]) {
      --besti;
      --bestj;
      ++bestsize;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a_[besti + bestsize] == b_[bestj + bestsize]) ++bestsize;
    return {besti, bestj, bestsize};
  }

  std::vector<Match> matchingBlocks() const {
    std::vector<std::tuple<size_t, size_t, size_t, size_t>> queue{{0, a_.size(), 0, b_.size()}};
    std::vector<Match> blocks;
    while (!queue.empty()) {
      auto [alo, ahi, blo, bhi] = queue.back();
      queue.pop_back();
      Match m = findLongestMatch(alo, ahi, blo, bhi);
      if (m.size == 0) continue;
      blocks.push_back(m);
      if (alo < m.a && blo < m.b) queue.emplace_back(alo, m.a, blo, m.b);
      if (m.a + m.size < ahi && m.b + m.size < bhi) queue.emplace_back(m.a + m.size, ahi, m.b + m.size, bhi);
    }
    std::sort(blocks.begin(), blocks.end(),
              [](const Match& x, const Match& y) { return std::tie(x.a, x.b, x.size) < std::tie(y.a, y.b, y.size); });
    std::vector<Match> merged;
    Match cur{0, 0, 0};
    for (const Match& m : blocks) {
      if (cur.a + cur.size == m.a && cur.b + cur.size == m.b) {
        cur.size += m.size;
      } else {
        if (cur.size > 0) merged.push_back(cur);
        cur = m;
      }
    }
    if (cur.size > 0) merged.push_back(cur);
    merged.push_back({a_.size(), b_.size(), 0});
    return merged;
  }

  std::vector<OpCode> opCodes() const {
    std::vector<OpCode> codes;
    size_t i = 0, j = 0;
    for (const Match& m : matchingBlocks()) {
      char tag = 0;
      if (i < m.a && j < m.b)
        tag = 'r';
      else if (i < m.a)
        tag = 'd';
      else if (j < m.b)
        tag = 'i';
      if (tag != 0) codes.push_back({tag, i, m.a, j, m.b});
      i = m.a + m.size;
      j = m.b + m.size;
      if (m.size > 0) codes.push_back({'e', m.a, i, m.b, j});
    }
    return codes;
  }

  std::vector<std::vector<OpCode>> groupedOpCodes(size_t n) const {
    std::vector<OpCode> codes = opCodes();
    if (codes.empty()) codes.push_back({'e', 0, 1, 0, 1});
    if (codes.front().tag == 'e') {
      OpCode& c = codes.front();
      c.i1 = std::max(c.i1, c.i2 > n ? c.i2 - n : 0);
      c.j1 = std::max(c.j1, c.j2 > n ? c.j2 - n : 0);
    }
    if (codes.back().tag == 'e') {
      OpCode& c = codes.back();
      c.i2 = std::min(c.i2, c.i1 + n);
      c.j2 = std::min(c.j2, c.j1 + n);
    }
    size_t nn = n + n;
    std::vector<std::vector<OpCode>> groups;
    std::vector<OpCode> group;
    for (OpCode c : codes) {
      if (c.tag == 'e' && c.i2 - c.i1 > nn) {
        group.push_back({'e', c.i1, std::min(c.i2, c.i1 + n), c.j1, std::min(c.j2, c.j1 + n)});
        groups.push_back(std::move(group));
        group.clear();
        c.i1 = std::max(c.i1, c.i2 > n ? c.i2 - n : 0);
        c.j1 = std::max(c.j1, c.j2 > n ? c.j2 - n : 0);
      }
      group.push_back(c);
    }
    if (!group.empty() && !(group.size() == 1 && group[0].tag == 'e')) groups.push_back(std::move(group));
    return groups;
  }

 private:
  const std::vector<std::string>& a_;
  const std::vector<std::string>& b_;
  std::map<std::string, std::vector<size_t>> b2j_;
};

std::string formatRange(size_t start, size_t stop) {
  size_t beginning = start + 1;
  size_t length = stop - start;
  if (length == 1) return fmt::format("{}", beginning);
  if (length == 0) --beginning;
  return fmt::format("{},{}", beginning, length);
}

}  // namespace

std::string unifiedDiff(std::string_view a, std::string_view b, std::string_view fromFile, std::string_view toFile,
                        int context) {
  std::vector<std::string> al = splitLines(a), bl = splitLines(b);
  SequenceMatcher m(al, bl);
  std::string out;
  bool started = false;
  for (const auto& g : m.groupedOpCodes(static_cast<size_t>(context < 0 ? 3 : context))) {
    if (!started) {
      started = true;
      if (!fromFile.empty() || !toFile.empty()) out += fmt::format("--- {}\n+++ {}\n", fromFile, toFile);
    }
    out +=
        fmt::format("@@ -{} +{} @@\n", formatRange(g.front().i1, g.back().i2), formatRange(g.front().j1, g.back().j2));
    for (const OpCode& c : g) {
      if (c.tag == 'e') {
        for (size_t i = c.i1; i < c.i2; ++i) out += " " + al[i];
        continue;
      }
      if (c.tag == 'r' || c.tag == 'd')
        for (size_t i = c.i1; i < c.i2; ++i) out += "-" + al[i];
      if (c.tag == 'r' || c.tag == 'i')
        for (size_t j = c.j1; j < c.j2; ++j) out += "+" + bl[j];
    }
  }
  return out;
}

}  // namespace mesh::cli::pc
