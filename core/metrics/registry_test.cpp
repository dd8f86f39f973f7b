#include "core/metrics/registry.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace mesh::metrics {

TEST_CASE("with() returns the same child for the same label values") {
  Registry r;
  auto& f = r.counter("c", "h", {"type", "code"});
  Counter& a = f.with({"cds", "ok"});
  const std::vector<std::string> values{"cds", "ok"};
  CHECK(&f.with(values) == &a);
  CHECK(&f.with({"cds", "err"}) != &a);
}

TEST_CASE("registering a name again with the same shape returns the existing family") {
  Registry r;
  auto& a = r.counter("c", "h", {"type"});
  CHECK(&r.counter("c", "other help", {"type"}) == &a);
  auto& h = r.histogram("h", "h", {1, 2});
  CHECK(&r.histogram("h", "h", {1, 2, INFINITY}) == &h);  // a trailing +Inf is implicit
}

TEST_CASE("counter: whole and fractional adds, negative ignored") {
  Counter c;
  c.inc();
  c.add(2);
  c.add(0.25);
  c.add(-5);
  c.add(NAN);
  CHECK(c.value() == 3.25);
}

TEST_CASE("gauge goes up and down") {
  Gauge g;
  g.set(5);
  g.inc();
  g.dec();
  g.dec();
  g.add(0.5);
  g.sub(1.5);
  CHECK(g.value() == 3);
}

TEST_CASE("concurrent increments and child creation lose nothing") {
  Registry r;
  auto& counters = r.counter("c", "h", {"type"});
  auto& gauges = r.gauge("g", "h");
  auto& hists = r.histogram("h", "h", {0.5, 1.5}, {"type"});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  const char* types[] = {"cds", "eds", "lds", "rds"};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        // Looked up every time on purpose: exercises the find/create path under contention.
        const char* type = types[(i + t) % 4];
        counters.with({type}).inc();
        gauges.with().add(0.5);
        hists.with({type}).observe(1);
      }
    });
  }
  for (auto& th : threads) th.join();

  double total = 0;
  std::uint64_t observations = 0;
  double sum = 0;
  counters.forEach([&](const std::vector<std::string>&, const Counter& c) { total += c.value(); });
  hists.forEach([&](const std::vector<std::string>&, const Histogram& h) {
    const auto s = h.snapshot();
    CHECK(s.cumulativeCounts == std::vector<std::uint64_t>{0, s.count, s.count});
    observations += s.count;
    sum += s.sum;
  });
  CHECK(total == kThreads * kIterations);
  CHECK(gauges.with().value() == kThreads * kIterations * 0.5);
  CHECK(observations == std::uint64_t{kThreads} * kIterations);
  CHECK(sum == kThreads * kIterations);
  CHECK(counters.with({"cds"}).value() == kThreads * kIterations / 4);
}

}  // namespace mesh::metrics
