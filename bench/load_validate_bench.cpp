// Benchmark: load and validate a directory of mesh config (bench/gen_mesh.py makes one).
// Prints resources, files, wall time of each phase and peak RSS. Not a test: no assertions.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/loader.h"
#include "core/validation/validate.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} DIR [THREADS]\n", argv[0]);
    return 64;
  }
  mesh::core::LoadOptions options;
  options.recursive = true;
  if (argc > 2) options.threads = static_cast<unsigned>(std::stoul(argv[2]));
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto loaded = mesh::core::loadPaths({argv[1]}, options);
  auto t1 = Clock::now();
  auto diags = mesh::core::validateAll(loaded.resources);
  auto t2 = Clock::now();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  fmt::print("files {}  resources {}  load errors {}  validation findings {}\n", loaded.files,
             loaded.resources.size(), loaded.diagnostics.size(), diags.size());
  fmt::print("load {:.0f} ms  validate {:.0f} ms  total {:.0f} ms  peak RSS {:.0f} MB\n", ms(t1 - t0),
             ms(t2 - t1), ms(t2 - t0), usage.ru_maxrss / 1024.0);
  for (size_t i = 0; i < diags.size() && i < 5; ++i) fmt::print("  {}\n", diags[i].format());
  return 0;
}
