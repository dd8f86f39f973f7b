#include "controlplane/server/mesh_config_source.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "backends/memory/memory_store.h"
#include "backends/testing/store_test_support.h"

namespace mesh::server {
namespace {

using backends::testing::kWait;
using backends::testing::parseOne;

// Counts the source's reports; waits for them.
struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  int changed = 0;
  std::vector<std::string> rejected;

  MeshConfigSourceHooks hooks() {
    return {[this] {
              std::lock_guard lock(mu);
              ++changed;
              cv.notify_all();
            },
            [this](const Error& e) {
              std::lock_guard lock(mu);
              rejected.push_back(e.message);
              cv.notify_all();
            }};
  }
  bool waitChanged(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kWait, [&] { return changed >= n; });
  }
  bool waitRejected(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kWait, [&] { return rejected.size() >= n; });
  }
};

std::string istioConfigMap(std::string_view mesh) {
  std::string out = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n";
  for (size_t at = 0; at < mesh.size();) {
    size_t nl = mesh.find('\n', at);
    if (nl == std::string_view::npos) nl = mesh.size();
    out += "    " + std::string(mesh.substr(at, nl - at)) + "\n";
    at = nl + 1;
  }
  return out;
}

const core::ResourceKey kKey{"", "ConfigMap", "istio-system", "istio"};

}  // namespace

TEST_CASE("MeshConfigSource: the istio ConfigMap of a store, followed live; a bad one keeps the last good") {
  backends::MemoryStore store;
  Reports reports;
  auto source = MeshConfigSource::fromConfigMap(store, kKey, reports.hooks());
  REQUIRE(source.has_value());
  CHECK((*source)->describe() == "ConfigMap istio-system/istio");
  CHECK((*source)->current()->trustDomain == "cluster.local");  // absent: Istio's defaults

  REQUIRE(store.apply(parseOne(istioConfigMap("trustDomain: one.example"))).has_value());
  REQUIRE(reports.waitChanged(1));
  CHECK((*source)->current()->trustDomain == "one.example");

  // Another ConfigMap of the namespace is not the MeshConfig.
  REQUIRE(store.apply(parseOne("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: istio-system}\n"
                               "data: {mesh: 'trustDomain: [x]'}\n")).has_value());
  REQUIRE(store.apply(parseOne(istioConfigMap("trustDomain: [bad]"))).has_value());
  REQUIRE(reports.waitRejected(1));
  CHECK(reports.rejected.front().find("test.yaml:6:0: data.mesh: trustDomain: must be a string") != std::string::npos);
  CHECK((*source)->current()->trustDomain == "one.example");

  REQUIRE(store.remove(kKey).has_value());
  REQUIRE(reports.waitChanged(2));
  CHECK((*source)->current()->trustDomain == "cluster.local");
  CHECK(reports.rejected.size() == 1);
}

TEST_CASE("MeshConfigSource: a bad ConfigMap at start is an error") {
  backends::MemoryStore store({parseOne(istioConfigMap("extensionProviders: 3"))});
  Reports reports;
  auto source = MeshConfigSource::fromConfigMap(store, kKey, reports.hooks());
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().code == ErrorCode::InvalidInput);
  CHECK(source.error().message.find("extensionProviders: must be a list") != std::string::npos);
}

TEST_CASE("MeshConfigSource: the --meshConfig file, re-read when its content changes") {
  auto dir = std::filesystem::temp_directory_path() / ("mesh-config-source-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "mesh").string();
  auto write = [&](std::string_view text) {
    std::ofstream(path + ".tmp") << text;
    std::filesystem::rename(path + ".tmp", path);
  };
  write("rootNamespace: [x]\n");
  Reports reports;
  auto bad = MeshConfigSource::fromFile(path, reports.hooks(), std::chrono::milliseconds(20));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find(path + ":1:16: rootNamespace: must be a string") != std::string::npos);
  auto missing = MeshConfigSource::fromFile((dir / "nope").string(), reports.hooks());
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::NotFound);

  write("rootNamespace: first\n");
  auto source = MeshConfigSource::fromFile(path, reports.hooks(), std::chrono::milliseconds(20));
  REQUIRE(source.has_value());
  CHECK((*source)->current()->rootNamespace == "first");
  write("rootNamespace: second\n");
  REQUIRE(reports.waitChanged(1));
  CHECK((*source)->current()->rootNamespace == "second");
  write("rootNamespace: {}\n");
  REQUIRE(reports.waitRejected(1));
  CHECK((*source)->current()->rootNamespace == "second");
  source->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace mesh::server
