#include "core/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace mesh::metrics {
namespace {

// Appends `name{l1="v1",l2="v2"[,le="bound"]} value\n`.
void appendSample(std::string& out, std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& labelNames,
                  const std::vector<std::string>& labelValues, const std::string* le,
                  std::string_view value) {
  out += name;
  out += suffix;
  if (!labelNames.empty() || le != nullptr) {
    out += '{';
    for (std::size_t i = 0; i < labelNames.size(); ++i) {
      if (i > 0) out += ',';
      out += labelNames[i];
      out += "=\"";
      out += escapeLabelValue(labelValues[i]);
      out += '"';
    }
    if (le != nullptr) {
      if (!labelNames.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

template <class Metric>
void appendScalarFamily(std::string& out, const FamilyBase& base) {
  const auto& family = static_cast<const Family<Metric>&>(base);
  family.forEach([&](const std::vector<std::string>& values, const Metric& m) {
    appendSample(out, family.name(), "", family.labelNames(), values, nullptr,
                 formatValue(m.value()));
  });
}

void appendHistogramFamily(std::string& out, const FamilyBase& base) {
  const auto& family = static_cast<const Family<Histogram>&>(base);
  family.forEach([&](const std::vector<std::string>& values, const Histogram& h) {
    const Histogram::Snapshot s = h.snapshot();
    for (std::size_t i = 0; i <= s.upperBounds.size(); ++i) {
      const std::string le = i < s.upperBounds.size() ? formatValue(s.upperBounds[i]) : "+Inf";
      appendSample(out, family.name(), "_bucket", family.labelNames(), values, &le,
                   std::to_string(s.cumulativeCounts[i]));
    }
    appendSample(out, family.name(), "_sum", family.labelNames(), values, nullptr,
                 formatValue(s.sum));
    appendSample(out, family.name(), "_count", family.labelNames(), values, nullptr,
                 std::to_string(s.count));
  });
}

}  // namespace

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // to_chars gives the shortest digits that round-trip, as "d.ddde±XX"; Go's 'g' with
  // precision -1 then picks %e when the exponent is < -4 or >= 6 (Go's "shortest" rule uses 6
  // in place of the precision), else plain decimal.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  const std::size_t ePos = sci.find('e');
  const bool negative = sci.front() == '-';
  std::string digits;
  for (char c : sci.substr(negative ? 1 : 0, ePos - (negative ? 1 : 0))) {
    if (c != '.') digits += c;
  }
  const int exp = std::atoi(std::string(sci.substr(ePos + 1)).c_str());

  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits.front();
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += exp < 0 ? "e-" : "e+";
    const int absExp = std::abs(exp);
    if (absExp < 10) out += '0';
    out += std::to_string(absExp);
  } else if (exp >= 0) {
    const auto intDigits = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= intDigits) {
      out += digits;
      out.append(intDigits - digits.size(), '0');
    } else {
      out += digits.substr(0, intDigits);
      out += '.';
      out += digits.substr(intDigits);
    }
  } else {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
  }
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string expose(const Registry& registry) {
  std::string out;
  registry.forEach([&](const FamilyBase& family) {
    std::string samples;
    switch (family.type()) {
      case MetricType::Counter:
        appendScalarFamily<Counter>(samples, family);
        break;
      case MetricType::Gauge:
        appendScalarFamily<Gauge>(samples, family);
        break;
      case MetricType::Histogram:
        appendHistogramFamily(samples, family);
        break;
    }
    // A labelled family with no children yet is left out entirely, as Go's client does: a
    // HELP/TYPE header without samples tells a scraper nothing.
    if (samples.empty()) return;
    out += "# HELP ";
    out += family.name();
    out += ' ';
    out += escapeHelp(family.help());
    out += "\n# TYPE ";
    out += family.name();
    out += ' ';
    out += typeName(family.type());
    out += '\n';
    out += samples;
  });
  return out;
}

}  // namespace mesh::metrics
