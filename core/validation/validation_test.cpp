// Golden tests over testdata/: every file in testdata/valid validates without errors, and every
// file in testdata/invalid produces, as its first error, exactly the line expected.txt lists for
// it. UPDATE_GOLDEN=1 rewrites expected.txt from the current output (review the diff).
#include "core/validation/validate.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/loader.h"

using namespace mesh::core;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = std::string(MESH_SOURCE_DIR) + "/";

std::vector<std::string> yamlFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kRoot + dir)) {
    auto ext = e.path().extension();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") out.push_back(dir + "/" + e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Loader and validator findings for one file, with paths relative to the source tree.
Diagnostics diagnose(const std::string& relative) {
  LoadOptions options;
  options.threads = 1;
  auto loaded = loadPaths({kRoot + relative}, options);
  Diagnostics all = loaded.diagnostics;
  Diagnostics v = validateAll(loaded.resources);
  all.insert(all.end(), v.begin(), v.end());
  for (auto& d : all)
    if (d.file.starts_with(kRoot)) d.file = d.file.substr(kRoot.size());
  return all;
}

const Diagnostic* firstError(const Diagnostics& ds) {
  for (const auto& d : ds)
    if (d.severity == Severity::Error) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("every file in testdata/valid validates without errors") {
  auto files = yamlFiles("testdata/valid");
  CHECK(files.size() >= 20);
  for (const auto& f : files) {
    INFO(f);
    Diagnostics ds = diagnose(f);
    const Diagnostic* e = firstError(ds);
    CHECK_MESSAGE(e == nullptr, (e ? e->format() : std::string()));
  }
}

TEST_CASE("every file in testdata/invalid gives the error expected.txt lists") {
  auto files = yamlFiles("testdata/invalid");
  CHECK(files.size() >= 40);
  std::map<std::string, std::string> actual;
  for (const auto& f : files) {
    const Diagnostic* e = nullptr;
    Diagnostics ds = diagnose(f);
    e = firstError(ds);
    actual[f] = e ? e->format() : f + ": (no error)";
  }
  const std::string expectedPath = kRoot + "testdata/invalid/expected.txt";
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream out(expectedPath);
    for (const auto& [file, line] : actual) out << line << "\n";
    MESSAGE("rewrote " << expectedPath);
    return;
  }
  std::ifstream in(expectedPath);
  REQUIRE_MESSAGE(in.good(), "missing " << expectedPath << " (run with UPDATE_GOLDEN=1)");
  std::map<std::string, std::string> expected;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    std::string file = line.substr(0, line.find(':'));
    CHECK_MESSAGE(!expected.contains(file), "expected.txt lists " << file << " twice");
    expected[file] = line;
  }
  for (const auto& [file, line] : actual) {
    INFO(file);
    REQUIRE_MESSAGE(expected.contains(file), "expected.txt has no line for " << file);
    CHECK(line == expected[file]);
  }
  for (const auto& [file, line] : expected) CHECK_MESSAGE(actual.contains(file), "no file for expected line: " << line);
}
