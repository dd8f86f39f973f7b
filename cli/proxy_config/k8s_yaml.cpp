// A port of the parts of go-yaml v2 that JSONToYAML exercises: resolve.go (does a string read
// as another type?), sorter.go (key order), encode.go (scalar styles) and emitterc.go (the
// libyaml emitter: indentation, quoting, folding). Names follow emitterc.go.
#include "cli/proxy_config/k8s_yaml.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "cli/proxy_config/go_format.h"

namespace mesh::cli::pc {
namespace {

enum class Style { Plain, SingleQuoted, DoubleQuoted, Literal };

struct YNode {
  enum class Kind { Scalar, Sequence, Mapping };
  Kind kind = Kind::Scalar;
  std::string value;
  Style style = Style::Plain;  // the style encode.go asks for
  std::vector<YNode> items;
  std::vector<std::pair<YNode, YNode>> entries;
};

// ---- resolve.go ---------------------------------------------------------------------------

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Go's time.Parse with the layouts go-yaml accepts for an untagged scalar.
bool isTimestamp(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && isDigit(s[i])) ++i;
  if (i != 4 || i == s.size() || s[i] != '-') return false;
  size_t pos = 5;
  auto num = [&](int& out, size_t maxDigits) {  // 1..maxDigits digits
    size_t start = pos;
    out = 0;
    while (pos < s.size() && pos - start < maxDigits && isDigit(s[pos])) out = out * 10 + (s[pos++] - '0');
    return pos > start;
  };
  auto lit = [&](char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int month = 0, day = 0;
  if (!num(month, 2) || !lit('-') || !num(day, 2)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int maxDay = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > maxDay) return false;
  if (pos == s.size()) return true;  // "2006-1-2"
  char sep = s[pos];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!num(hour, 2) || !lit(':') || !num(minute, 2) || !lit(':') || !num(second, 2)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (pos + 1 < s.size() && (s[pos] == '.' || s[pos] == ',') && isDigit(s[pos + 1])) {
    ++pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
  }
  if (sep == ' ') return pos == s.size();  // "2006-1-2 15:4:5.999999999"
  if (lit('Z')) return pos == s.size();
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    ++pos;
    if (s.size() - pos != 5 || !isDigit(s[pos]) || !isDigit(s[pos + 1]) || s[pos + 2] != ':' || !isDigit(s[pos + 3]) ||
        !isDigit(s[pos + 4]))
      return false;
    int hh = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
    int mm = (s[pos + 3] - '0') * 10 + (s[pos + 4] - '0');
    return hh <= 24 && mm <= 59;  // Go accepts any two-digit offset hours; minutes must be < 60
  }
  return false;
}

// strconv.ParseInt / ParseUint with base 0 (sign, 0x/0o/0b prefixes, leading-0 octal).
bool parsesAsGoInt(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') i = 1;
  std::string_view digits = s.substr(i);
  if (digits.empty()) return false;
  int base = 10;
  if (digits.size() >= 2 && digits[0] == '0') {
    char p = static_cast<char>(digits[1] | 0x20);
    if (p == 'x')
      base = 16, digits.remove_prefix(2);
    else if (p == 'o')
      base = 8, digits.remove_prefix(2);
    else if (p == 'b')
      base = 2, digits.remove_prefix(2);
    else
      base = 8, digits.remove_prefix(1);
  }
  if (digits.empty()) return false;
  uint64_t value = 0;
  for (char c : digits) {
    int d = isDigit(c) ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return false;
    if (value > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (s[0] == '-') return value <= static_cast<uint64_t>(INT64_MAX) + 1;
  return true;  // fits int64 or uint64
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool isYamlStyleFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == start) return false;
  } else {
    size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == start) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && isDigit(s[i])) ++i;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
bool isBase60Float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= s.size() || !isDigit(s[i])) return false;
  while (i < s.size() && (isDigit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < s.size() && s[i] == ':') {
    ++i;
    if (i < s.size() && s[i] >= '0' && s[i] <= '5' && i + 1 < s.size() && isDigit(s[i + 1])) {
      i += 2;
    } else if (i < s.size() && isDigit(s[i])) {
      ++i;
    } else {
      return false;
    }
    ++groups;
  }
  if (groups == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && (isDigit(s[i]) || s[i] == '_')) ++i;
  }
  return i == s.size();
}

// Would an untagged plain scalar with this text read as something other than a string?
bool resolvesToNonString(std::string_view s) {
  static constexpr std::string_view kSpecial[] = {"y",     "Y",     "yes",   "Yes",   "YES",   "true",  "True",  "TRUE",
                                                  "on",    "On",    "ON",    "n",     "N",     "no",    "No",    "NO",
                                                  "false", "False", "FALSE", "off",   "Off",   "OFF",   "",      "~",
                                                  "null",  "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",
                                                  ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"};
  if (std::find(std::begin(kSpecial), std::end(kSpecial), s) != std::end(kSpecial)) return true;
  char first = s[0];
  if (first == '.') {
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    return ec == std::errc() && p == s.data() + s.size();
  }
  if (!(isDigit(first) || first == '+' || first == '-')) return false;
  if (isTimestamp(s)) return true;
  std::string plain;
  for (char c : s)
    if (c != '_') plain += c;
  if (parsesAsGoInt(plain)) return true;
  if (isYamlStyleFloat(plain)) return true;
  return false;
}

// encode.go stringv: plain when it reads back as the same string, literal when multi-line,
// double-quoted otherwise.
YNode stringScalar(std::string s) {
  YNode n;
  bool canUsePlain = !resolvesToNonString(s) && !isBase60Float(s);
  n.style = s.find('\n') != std::string::npos ? Style::Literal : canUsePlain ? Style::Plain : Style::DoubleQuoted;
  n.value = std::move(s);
  return n;
}

YNode plainScalar(std::string s) {
  YNode n;
  n.value = std::move(s);
  return n;
}

// A JSON number as go-yaml reads it back: int64 / uint64 when it is an integer in range,
// float64 otherwise, then printed by encode.go.
YNode numberScalar(const std::string& text) {
  bool integer = !text.empty() && std::all_of(text.begin() + (text[0] == '-'), text.end(), isDigit);
  if (integer) {
    int64_t i = 0;
    if (auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i); ec == std::errc())
      return plainScalar(std::to_string(i));
    uint64_t u = 0;
    if (auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), u); ec == std::errc())
      return plainScalar(std::to_string(u));
  }
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  std::string g = goFormatG(d);
  if (g == "+Inf") return plainScalar(".inf");
  if (g == "-Inf") return plainScalar("-.inf");
  if (g == "NaN") return plainScalar(".nan");
  return plainScalar(g);
}

// ---- sorter.go ----------------------------------------------------------------------------

std::u32string runes(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t r = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) r = (r << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += r;
    i += n;
  }
  return out;
}

bool isLetter(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  return r == 0xAA || r == 0xB5 || r == 0xBA || (r >= 0xC0 && r != 0xD7 && r != 0xF7);  // approximation
}
bool isRuneDigit(char32_t r) { return r >= '0' && r <= '9'; }

// keyList.Less for two string keys.
bool keyLess(const std::string& a, const std::string& b) {
  std::u32string ar = runes(a), br = runes(b);
  for (size_t i = 0; i < ar.size() && i < br.size(); ++i) {
    if (ar[i] == br[i]) continue;
    bool al = isLetter(ar[i]), bl = isLetter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return bl;
    int64_t an = 0, bn = 0;
    if (ar[i] == '0' || br[i] == '0') {
      for (size_t j = i; j-- > 0 && isRuneDigit(ar[j]);) {
        if (ar[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < ar.size() && isRuneDigit(ar[ai]); ++ai) an = an * 10 + (ar[ai] - '0');
    for (; bi < br.size() && isRuneDigit(br[bi]); ++bi) bn = bn * 10 + (br[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.size() < br.size();
}

YNode toNode(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::Null:
      return plainScalar("null");
    case JsonValue::Kind::Bool:
      return plainScalar(v.boolean ? "true" : "false");
    case JsonValue::Kind::Number:
      return numberScalar(v.text);
    case JsonValue::Kind::String:
      return stringScalar(v.text);
    case JsonValue::Kind::Array: {
      YNode n;
      n.kind = YNode::Kind::Sequence;
      for (const auto& item : v.items) n.items.push_back(toNode(item));
      return n;
    }
    case JsonValue::Kind::Object: {
      // go-yaml decodes into a map (a repeated key keeps its last value), then sorts the keys.
      std::vector<const std::pair<std::string, JsonValue>*> members;
      for (const auto& m : v.members) {
        auto same = std::find_if(members.begin(), members.end(), [&](auto* p) { return p->first == m.first; });
        if (same != members.end())
          *same = &m;
        else
          members.push_back(&m);
      }
      std::sort(members.begin(), members.end(), [](auto* x, auto* y) { return keyLess(x->first, y->first); });
      YNode n;
      n.kind = YNode::Kind::Mapping;
      for (const auto* m : members) n.entries.emplace_back(stringScalar(m->first), toNode(m->second));
      return n;
    }
  }
  return plainScalar("null");
}

// ---- emitterc.go --------------------------------------------------------------------------

constexpr int kBestIndent = 2;
constexpr int kBestWidth = 80;

size_t width(unsigned char c) {
  return (c & 0x80) == 0x00 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
}
unsigned char at(std::string_view s, size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; }
bool isSpace(std::string_view s, size_t i) { return at(s, i) == ' '; }
bool isBlank(std::string_view s, size_t i) { return at(s, i) == ' ' || at(s, i) == '\t'; }
bool isBreak(std::string_view s, size_t i) {
  return at(s, i) == '\r' || at(s, i) == '\n' || (at(s, i) == 0xC2 && at(s, i + 1) == 0x85) ||
         (at(s, i) == 0xE2 && at(s, i + 1) == 0x80 && (at(s, i + 2) == 0xA8 || at(s, i + 2) == 0xA9));
}
bool isBlankz(std::string_view s, size_t i) { return isBlank(s, i) || isBreak(s, i) || i >= s.size() || at(s, i) == 0; }
bool isBom(std::string_view s, size_t i) { return at(s, i) == 0xEF && at(s, i + 1) == 0xBB && at(s, i + 2) == 0xBF; }
bool isPrintable(std::string_view s, size_t i) {
  unsigned char b = at(s, i), b1 = at(s, i + 1), b2 = at(s, i + 2);
  return b == 0x0A || (b >= 0x20 && b <= 0x7E) || (b == 0xC2 && b1 >= 0xA0) || (b > 0xC2 && b < 0xED) ||
         (b == 0xED && b1 < 0xA0) || b == 0xEE ||
         (b == 0xEF && !(b1 == 0xBB && b2 == 0xBF) && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

struct ScalarData {
  bool multiline = false;
  bool flowPlainAllowed = false;
  bool blockPlainAllowed = false;
  bool singleQuotedAllowed = false;
  bool blockAllowed = false;
};

ScalarData analyzeScalar(std::string_view value) {
  ScalarData d;
  if (value.empty()) {
    d.blockPlainAllowed = true;
    d.singleQuotedAllowed = true;
    return d;
  }
  bool blockIndicators = false, flowIndicators = false, lineBreaks = false, specialCharacters = false;
  bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
  bool breakSpace = false, spaceBreak = false, previousSpace = false, previousBreak = false;
  if (value.size() >= 3 && (value.substr(0, 3) == "---" || value.substr(0, 3) == "...")) {
    blockIndicators = true;
    flowIndicators = true;
  }
  bool precededByWhitespace = true;
  for (size_t i = 0, w = 0; i < value.size(); i += w) {
    w = std::max<size_t>(width(at(value, i)), 1);
    bool followedByWhitespace = i + w >= value.size() || isBlank(value, i + w);
    char c = value[i];
    if (i == 0) {
      switch (c) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          flowIndicators = blockIndicators = true;
          break;
        case '?':
        case ':':
          flowIndicators = true;
          if (followedByWhitespace) blockIndicators = true;
          break;
        case '-':
          if (followedByWhitespace) flowIndicators = blockIndicators = true;
          break;
        default:
          break;
      }
    } else {
      switch (c) {
        case ',':
        case '?':
        case '[':
        case ']':
        case '{':
        case '}':
          flowIndicators = true;
          break;
        case ':':
          flowIndicators = true;
          if (followedByWhitespace) blockIndicators = true;
          break;
        case '#':
          if (precededByWhitespace) flowIndicators = blockIndicators = true;
          break;
        default:
          break;
      }
    }
    if (!isPrintable(value, i)) specialCharacters = true;
    if (isSpace(value, i)) {
      if (i == 0) leadingSpace = true;
      if (i + w == value.size()) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(value, i)) {
      lineBreaks = true;
      if (i == 0) leadingBreak = true;
      if (i + w == value.size()) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankz(value, i);
  }
  d.multiline = lineBreaks;
  d.flowPlainAllowed = d.blockPlainAllowed = d.singleQuotedAllowed = d.blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) d.flowPlainAllowed = d.blockPlainAllowed = false;
  if (trailingSpace) d.blockAllowed = false;
  if (breakSpace) d.flowPlainAllowed = d.blockPlainAllowed = d.singleQuotedAllowed = false;
  if (spaceBreak || specialCharacters)
    d.flowPlainAllowed = d.blockPlainAllowed = d.singleQuotedAllowed = d.blockAllowed = false;
  if (lineBreaks) d.flowPlainAllowed = d.blockPlainAllowed = false;
  if (flowIndicators) d.flowPlainAllowed = false;
  if (blockIndicators) d.blockPlainAllowed = false;
  return d;
}

class Emitter {
 public:
  std::string out;

  void document(const YNode& root) {
    emitNode(root, true, false, false, false);
    writeIndent();  // implicit document end
  }

 private:
  void put(char c) {
    out += c;
    ++column_;
  }
  void putBreak() {
    out += '\n';
    column_ = 0;
  }
  void write(std::string_view s, size_t& i) {
    size_t w = std::max<size_t>(width(at(s, i)), 1);
    out.append(s.substr(i, w));
    ++column_;
    i += w;
  }
  void writeBreak(std::string_view s, size_t& i) {
    if (s[i] == '\n') {
      putBreak();
      ++i;
    } else {
      write(s, i);
      column_ = 0;
    }
  }
  void writeIndent() {
    int indent = std::max(indent_, 0);
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) putBreak();
    while (column_ < indent) put(' ');
    whitespace_ = true;
    indention_ = true;
  }
  void writeIndicator(std::string_view indicator, bool needWhitespace, bool isWhitespace, bool isIndention) {
    if (needWhitespace && !whitespace_) put(' ');
    for (size_t i = 0; i < indicator.size();) write(indicator, i);
    whitespace_ = isWhitespace;
    indention_ = indention_ && isIndention;
  }
  void increaseIndent(bool flow, bool indentless) {
    indents_.push_back(indent_);
    if (indent_ < 0)
      indent_ = flow ? kBestIndent : 0;
    else if (!indentless)
      indent_ += kBestIndent;
  }
  void popIndent() {
    indent_ = indents_.back();
    indents_.pop_back();
  }

  // The root and sequence contexts of emitterc.go only matter for features JSON never uses.
  void emitNode(const YNode& n, bool /*root*/, bool /*sequence*/, bool mapping, bool simpleKey) {
    mappingContext_ = mapping;
    simpleKeyContext_ = simpleKey;
    switch (n.kind) {
      case YNode::Kind::Scalar:
        emitScalar(n);
        break;
      case YNode::Kind::Sequence:
        if (flowLevel_ > 0 || n.items.empty())
          emitFlowEmpty("[", "]");
        else
          emitBlockSequence(n);
        break;
      case YNode::Kind::Mapping:
        if (flowLevel_ > 0 || n.entries.empty())
          emitFlowEmpty("{", "}");
        else
          emitBlockMapping(n);
        break;
    }
  }

  // Empty collections are the only flow collections go-yaml writes for JSON input.
  void emitFlowEmpty(std::string_view open, std::string_view close) {
    writeIndicator(open, true, true, false);
    increaseIndent(true, false);
    ++flowLevel_;
    --flowLevel_;
    popIndent();
    writeIndicator(close, false, false, false);
  }

  void emitBlockSequence(const YNode& n) {
    increaseIndent(false, mappingContext_ && !indention_);
    for (const auto& item : n.items) {
      writeIndent();
      writeIndicator("-", true, false, true);
      emitNode(item, false, true, false, false);
    }
    popIndent();
  }

  void emitBlockMapping(const YNode& n) {
    increaseIndent(false, false);
    for (const auto& [key, value] : n.entries) {
      writeIndent();
      ScalarData keyData = analyzeScalar(key.value);
      bool simple = !keyData.multiline && key.value.size() <= 128;
      if (simple) {
        emitNode(key, false, false, true, true);
        writeIndicator(":", false, false, false);
      } else {
        writeIndicator("?", true, false, true);
        emitNode(key, false, false, true, false);
        writeIndent();
        writeIndicator(":", true, false, true);
      }
      emitNode(value, false, false, true, false);
    }
    popIndent();
  }

  Style selectStyle(const YNode& n, const ScalarData& d) const {
    Style style = n.style;
    if (simpleKeyContext_ && d.multiline) style = Style::DoubleQuoted;
    if (style == Style::Plain) {
      if ((flowLevel_ > 0 && !d.flowPlainAllowed) || (flowLevel_ == 0 && !d.blockPlainAllowed))
        style = Style::SingleQuoted;
      if (n.value.empty() && (flowLevel_ > 0 || simpleKeyContext_)) style = Style::SingleQuoted;
    }
    if (style == Style::SingleQuoted && !d.singleQuotedAllowed) style = Style::DoubleQuoted;
    if (style == Style::Literal && (!d.blockAllowed || flowLevel_ > 0 || simpleKeyContext_))
      style = Style::DoubleQuoted;
    return style;
  }

  void emitScalar(const YNode& n) {
    ScalarData d = analyzeScalar(n.value);
    Style style = selectStyle(n, d);
    increaseIndent(true, false);
    bool allowBreaks = !simpleKeyContext_;
    switch (style) {
      case Style::Plain:
        writePlain(n.value, allowBreaks);
        break;
      case Style::SingleQuoted:
        writeSingleQuoted(n.value, allowBreaks);
        break;
      case Style::DoubleQuoted:
        writeDoubleQuoted(n.value, allowBreaks);
        break;
      case Style::Literal:
        writeLiteral(n.value);
        break;
    }
    popIndent();
  }

  void writePlain(std::string_view v, bool allowBreaks) {
    if (!whitespace_) put(' ');
    bool spaces = false, breaks = false;
    for (size_t i = 0; i < v.size();) {
      if (isSpace(v, i)) {
        if (allowBreaks && !spaces && column_ > kBestWidth && !isSpace(v, i + 1)) {
          writeIndent();
          ++i;
        } else {
          write(v, i);
        }
        spaces = true;
      } else if (isBreak(v, i)) {
        if (!breaks && v[i] == '\n') putBreak();
        writeBreak(v, i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) writeIndent();
        write(v, i);
        indention_ = false;
        spaces = breaks = false;
      }
    }
    whitespace_ = false;
    indention_ = false;
  }

  void writeSingleQuoted(std::string_view v, bool allowBreaks) {
    writeIndicator("'", true, false, false);
    bool spaces = false, breaks = false;
    for (size_t i = 0; i < v.size();) {
      if (isSpace(v, i)) {
        if (allowBreaks && !spaces && column_ > kBestWidth && i > 0 && i < v.size() - 1 && !isSpace(v, i + 1)) {
          writeIndent();
          ++i;
        } else {
          write(v, i);
        }
        spaces = true;
      } else if (isBreak(v, i)) {
        if (!breaks && v[i] == '\n') putBreak();
        writeBreak(v, i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) writeIndent();
        if (v[i] == '\'') put('\'');
        write(v, i);
        indention_ = false;
        spaces = breaks = false;
      }
    }
    writeIndicator("'", false, false, false);
    whitespace_ = false;
    indention_ = false;
  }

  void writeDoubleQuoted(std::string_view v, bool allowBreaks) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    writeIndicator("\"", true, false, false);
    bool spaces = false;
    for (size_t i = 0; i < v.size();) {
      if (!isPrintable(v, i) || isBom(v, i) || isBreak(v, i) || v[i] == '"' || v[i] == '\\') {
        auto octet = at(v, i);
        size_t w = std::max<size_t>(width(octet), 1);
        char32_t r = w == 1 ? (octet & 0x7F) : w == 2 ? (octet & 0x1F) : w == 3 ? (octet & 0x0F) : (octet & 0x07);
        for (size_t k = 1; k < w; ++k) r = (r << 6) | (at(v, i + k) & 0x3F);
        i += w;
        put('\\');
        switch (r) {
          case 0x00:
            put('0');
            break;
          case 0x07:
            put('a');
            break;
          case 0x08:
            put('b');
            break;
          case 0x09:
            put('t');
            break;
          case 0x0A:
            put('n');
            break;
          case 0x0B:
            put('v');
            break;
          case 0x0C:
            put('f');
            break;
          case 0x0D:
            put('r');
            break;
          case 0x1B:
            put('e');
            break;
          case 0x22:
            put('"');
            break;
          case 0x5C:
            put('\\');
            break;
          case 0x85:
            put('N');
            break;
          case 0xA0:
            put('_');
            break;
          case 0x2028:
            put('L');
            break;
          case 0x2029:
            put('P');
            break;
          default: {
            int digits = r <= 0xFF ? 2 : r <= 0xFFFF ? 4 : 8;
            put(r <= 0xFF ? 'x' : r <= 0xFFFF ? 'u' : 'U');
            for (int k = (digits - 1) * 4; k >= 0; k -= 4) put(kHex[(r >> k) & 0x0F]);
          }
        }
        spaces = false;
      } else if (isSpace(v, i)) {
        if (allowBreaks && !spaces && column_ > kBestWidth && i != 0 && i != v.size() - 1) {
          writeIndent();
          if (isSpace(v, i + 1)) put('\\');
          ++i;
        } else {
          write(v, i);
        }
        spaces = true;
      } else {
        write(v, i);
        spaces = false;
      }
    }
    writeIndicator("\"", false, false, false);
  }

  void writeLiteral(std::string_view v) {
    writeIndicator("|", true, false, false);
    if (isSpace(v, 0) || isBreak(v, 0)) {
      char hint = static_cast<char>('0' + kBestIndent);
      writeIndicator(std::string_view(&hint, 1), false, false, false);
    }
    // Chomping: strip without a final break, keep with more than one.
    std::string_view chomp;
    if (v.empty()) {
      chomp = "-";
    } else {
      size_t i = v.size() - 1;
      while (i > 0 && (at(v, i) & 0xC0) == 0x80) --i;
      if (!isBreak(v, i)) {
        chomp = "-";
      } else if (i == 0) {
        chomp = "+";
      } else {
        --i;
        while (i > 0 && (at(v, i) & 0xC0) == 0x80) --i;
        if (isBreak(v, i)) chomp = "+";
      }
    }
    if (!chomp.empty()) writeIndicator(chomp, false, false, false);
    putBreak();
    indention_ = true;
    whitespace_ = true;
    bool breaks = true;
    for (size_t i = 0; i < v.size();) {
      if (isBreak(v, i)) {
        writeBreak(v, i);
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) {
          writeIndent();
          breaks = false;
        }
        write(v, i);
        indention_ = false;
      }
    }
  }

  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
  int indent_ = -1;
  std::vector<int> indents_;
  int flowLevel_ = 0;
  bool mappingContext_ = false, simpleKeyContext_ = false;
};

}  // namespace

std::string toK8sYaml(const JsonValue& value) {
  Emitter emitter;
  emitter.document(toNode(value));
  return std::move(emitter.out);
}

}  // namespace mesh::cli::pc
