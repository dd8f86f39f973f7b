#include "core/validation/duration.h"

#include <fmt/format.h>

#include "core/validation/fields.h"

namespace mesh::core::validation {
namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};

// Go's time.ParseDuration units; "µs" in both of Unicode's spellings.
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek mu
    {"ms", kMillisecond},
    {"s", kSecond},
    {"m", 60 * kSecond},
    {"h", 3600 * kSecond},
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<int64_t> parseDuration(std::string_view s, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<int64_t> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return fail("empty");
  // Accumulate in long double: exact enough for the 290-year range Go allows.
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    size_t intDigits = 0;
    while (i < s.size() && isDigit(s[i])) value = value * 10 + (s[i++] - '0'), ++intDigits;
    size_t fracDigits = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && isDigit(s[i])) value += (s[i++] - '0') * scale, scale /= 10, ++fracDigits;
    }
    if (intDigits == 0 && fracDigits == 0) return fail("number expected");
    size_t u = i;
    while (u < s.size() && !isDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unitText = s.substr(i, u - i);
    if (unitText.empty()) return fail("missing unit");
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits)
      if (candidate.name == unitText) unit = &candidate;
    if (!unit) return fail(fmt::format("unknown unit \"{}\"", unitText));
    total += value * static_cast<long double>(unit->nanos);
    if (total > static_cast<long double>(INT64_MAX)) return fail("out of range");
    s.remove_prefix(u);
  }
  auto nanos = static_cast<int64_t>(total + 0.5L);
  return negative ? -nanos : nanos;
}

std::string durationError(std::string_view text) {
  return fmt::format("invalid duration \"{}\": use a number with a unit (ns, us, ms, s, m, h)", text);
}

void checkIstioDuration(const Node* node, const std::string& path, ValidationContext& ctx) {
  auto s = stringOf(node);
  if (!s) return;
  auto nanos = parseDuration(*s);
  if (!nanos) return;
  if (*nanos < kMillisecond)
    ctx.error(node, path, fmt::format("duration {} is too short: must be at least 1ms", *s));
  else if (*nanos % kMillisecond != 0)
    ctx.error(node, path, fmt::format("duration {} is finer than 1ms: Istio supports whole milliseconds", *s));
}

}  // namespace mesh::core::validation
