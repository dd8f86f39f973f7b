// Helpers for the backends' tests: objects from YAML text, a watch event log that waits with
// a bounded timeout, and per-test temporary directories. Test code only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/loader.h"
#include "core/store/config_store.h"

namespace mesh::backends::testing {

inline constexpr std::chrono::seconds kWait{
    5};  // "arrived before the timeout", never a timing claim

inline std::vector<core::Resource> parseAll(std::string_view yaml,
                                            std::string_view defaultNamespace = "default") {
  return core::loadBuffer("test.yaml", yaml, core::LoadOptions{.defaultNamespace = std::string(defaultNamespace), .limits = {}}).resources;
}

inline core::Resource parseOne(std::string_view yaml,
                               std::string_view defaultNamespace = "default") {
  auto all = parseAll(yaml, defaultNamespace);
  if (all.size() != 1) throw std::runtime_error(fmt::format("expected one object in:\n{}", yaml));
  return all.front();
}

inline std::string virtualService(std::string_view name, std::string_view ns = "default",
                                  std::string_view host = "reviews") {
  return fmt::format(
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {}\n  "
      "namespace: {}\n"
      "spec:\n  hosts:\n  - {}\n",
      name, ns, host);
}

inline std::string configMap(std::string_view name, std::string_view ns = "default",
                             std::string_view value = "1") {
  return fmt::format(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: {}\ndata:\n  key: "
      "\"{}\"\n",
      name, ns, value);
}

// An object of a kind no one knows, in a group that sorts after every real one: a directory
// store emits a batch's events in key order, so a sentinel's event comes last in its batch.
inline std::string sentinelObject(std::string_view name) {
  return fmt::format(
      "apiVersion: zz.test/v1\nkind: Sentinel\nmetadata:\n  name: {}\n  namespace: default\n",
      name);
}
inline core::ResourceKey sentinelKey(std::string name) {
  return {"zz.test", "Sentinel", "default", std::move(name)};
}

inline std::string nsObject(std::string_view name) {
  return fmt::format("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n", name);
}

// spec.hosts[0] of a VirtualService made by virtualService().
inline std::string firstHost(const core::Resource& r) {
  const core::Node* spec = r.spec();
  const core::Node* hosts = spec ? spec->get("hosts") : nullptr;
  if (!hosts) return {};
  for (const core::Node* host : hosts->items()) return std::string(host->text());
  return {};
}

inline core::ResourceKey vsKey(std::string name, std::string ns = "default") {
  return {"networking.istio.io", "VirtualService", std::move(ns), std::move(name)};
}
inline core::ResourceKey cmKey(std::string name, std::string ns = "default") {
  return {"", "ConfigMap", std::move(ns), std::move(name)};
}

// "Added VirtualService.networking.istio.io default/reviews": events in a comparable form.
inline std::string describe(const core::WatchEvent& e) {
  return fmt::format("{} {}", core::eventTypeName(e.type), e.item.key().display());
}

// Records watch events; tests wait on it for at most kWait.
class EventLog {
 public:
  core::WatchCallback callback() {
    return [this](const core::WatchEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  bool waitFor(size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return events_.size() >= count; });
  }
  // Waits for an event about `key`; true when one arrived.
  bool waitForKey(const core::ResourceKey& key) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] {
      for (const auto& e : events_)
        if (e.item.key() == key) return true;
      return false;
    });
  }
  std::vector<core::WatchEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> summary() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(describe(e));
    return out;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<core::WatchEvent> events_;
};

// Polls `pred` until it holds or kWait passes (for state without events, like diagnostics).
inline bool eventually(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("meshctl-store-test-{:x}{:x}", rd(), rd());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

inline void writeFile(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string out;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    out.append(buf, static_cast<size_t>(in.gcount()));
  return out;
}

}  // namespace mesh::backends::testing

// Lists of strings print as one line per entry when a CHECK fails.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& v) {
    std::string out = "[";
    for (const auto& s : v) out += "\n  " + s;
    out += "\n]";
    return out.c_str();
  }
};
