// The Prometheus text exposition format, version 0.0.4, as served on /metrics: what Prometheus
// and istiod's scrapers read. Output is stable (families by name, children by label values) and
// number formatting follows Go's client (strconv 'g', shortest), so our lines match istiod's.
// Any thread may call these; expose() takes the registry's and each family's locks briefly.
#pragma once

#include <string>
#include <string_view>

#include "core/metrics/registry.h"

namespace mesh::metrics {

// The Content-Type a /metrics response carries.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Every family with at least one child: # HELP, # TYPE, then its samples.
std::string expose(const Registry& registry);

// A sample value or bucket bound as Go formats it: "0.1", "42", "1e+06", "+Inf", "-Inf", "NaN".
std::string formatValue(double v);

// Label values escape \ " and newline; HELP text escapes \ and newline (format 0.0.4).
std::string escapeLabelValue(std::string_view value);
std::string escapeHelp(std::string_view help);

}  // namespace mesh::metrics
