#include "core/metrics/exposition.h"

#include <doctest/doctest.h>

#include <cmath>

namespace mesh::metrics {

TEST_CASE("formatValue follows Go's strconv 'g' with shortest precision") {
  CHECK(formatValue(0) == "0");
  CHECK(formatValue(1) == "1");
  CHECK(formatValue(-2) == "-2");
  CHECK(formatValue(0.1) == "0.1");
  CHECK(formatValue(0.5) == "0.5");
  CHECK(formatValue(2.5) == "2.5");
  CHECK(formatValue(10000) == "10000");
  CHECK(formatValue(123456) == "123456");
  CHECK(formatValue(1000000) == "1e+06");
  CHECK(formatValue(1234567) == "1.234567e+06");
  CHECK(formatValue(4e7) == "4e+07");
  CHECK(formatValue(0.0001) == "0.0001");
  CHECK(formatValue(0.00001) == "1e-05");
  CHECK(formatValue(1.5e-7) == "1.5e-07");
  CHECK(formatValue(1e100) == "1e+100");
  CHECK(formatValue(0.1 + 0.2) == "0.30000000000000004");
  CHECK(formatValue(INFINITY) == "+Inf");
  CHECK(formatValue(-INFINITY) == "-Inf");
  CHECK(formatValue(NAN) == "NaN");
}

TEST_CASE("escaping: label values escape backslash, quote, newline; help escapes no quote") {
  CHECK(escapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escapeHelp("a\\b\"c\nd") == "a\\\\b\"c\\nd");
}

TEST_CASE("exposition of counters and gauges is exact and sorted") {
  Registry r;
  auto& pushes = r.counter("pilot_xds_pushes", "Pushes by type.", {"type"});
  pushes.with({"rds"}).inc();
  pushes.with({"cds"}).add(3);
  pushes.with({"eds"}).add(0.5);
  r.gauge("pilot_xds", "Connected proxies.", {"version"}).with({"1.0"}).set(7);
  r.counter("a_total", "Unlabelled \\ help\nline two.");  // exposed as 0 from the start
  r.counter("z_empty", "No children yet.", {"type"});     // left out entirely

  CHECK(expose(r) ==
        "# HELP a_total Unlabelled \\\\ help\\nline two.\n"
        "# TYPE a_total counter\n"
        "a_total 0\n"
        "# HELP pilot_xds Connected proxies.\n"
        "# TYPE pilot_xds gauge\n"
        "pilot_xds{version=\"1.0\"} 7\n"
        "# HELP pilot_xds_pushes Pushes by type.\n"
        "# TYPE pilot_xds_pushes counter\n"
        "pilot_xds_pushes{type=\"cds\"} 3\n"
        "pilot_xds_pushes{type=\"eds\"} 0.5\n"
        "pilot_xds_pushes{type=\"rds\"} 1\n");
}

TEST_CASE("exposition escapes label values and keeps declared label order") {
  Registry r;
  r.gauge("g", "h", {"b", "a"}).with({"x\"y", "back\\slash\nnl"}).set(-1.25);
  CHECK(expose(r) ==
        "# HELP g h\n"
        "# TYPE g gauge\n"
        "g{b=\"x\\\"y\",a=\"back\\\\slash\\nnl\"} -1.25\n");
}

TEST_CASE("histogram exposition: cumulative buckets with +Inf, _sum, _count") {
  Registry r;
  auto& h = r.histogram("pilot_xds_config_size_bytes", "Config size.",
                        {1, 10000, 1000000, 4000000, 10000000, 40000000}, {"type"});
  auto& cds = h.with({"cds"});
  cds.observe(1);        // le is inclusive: bucket 1
  cds.observe(500);      // 10000
  cds.observe(2000000);  // 4e+06
  cds.observe(5e7);      // +Inf
  r.histogram("t", "Unlabelled.", {0.5, 1}).with().observe(0.25);

  CHECK(expose(r) ==
        "# HELP pilot_xds_config_size_bytes Config size.\n"
        "# TYPE pilot_xds_config_size_bytes histogram\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"1\"} 1\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"10000\"} 2\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"1e+06\"} 2\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"4e+06\"} 3\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"1e+07\"} 3\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"4e+07\"} 3\n"
        "pilot_xds_config_size_bytes_bucket{type=\"cds\",le=\"+Inf\"} 4\n"
        "pilot_xds_config_size_bytes_sum{type=\"cds\"} 5.2000501e+07\n"
        "pilot_xds_config_size_bytes_count{type=\"cds\"} 4\n"
        "# HELP t Unlabelled.\n"
        "# TYPE t histogram\n"
        "t_bucket{le=\"0.5\"} 1\n"
        "t_bucket{le=\"1\"} 1\n"
        "t_bucket{le=\"+Inf\"} 1\n"
        "t_sum 0.25\n"
        "t_count 1\n");
}

TEST_CASE("a NaN observation counts in +Inf, as Go's client does") {
  Registry r;
  auto& h = r.histogram("n", "h", {1}).with();
  h.observe(NAN);
  const auto s = h.snapshot();
  CHECK(s.cumulativeCounts == std::vector<std::uint64_t>{0, 1});
  CHECK(std::isnan(s.sum));
}

}  // namespace mesh::metrics
