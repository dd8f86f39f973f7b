// state.yaml: what `meshctl install --local` set up, written last and atomically, read by
// verify-install (which ports to probe), uninstall (whether meshctl created the mesh home) and
// the next install (what is already there). Plain data plus its YAML form; any thread.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::local {

struct ComponentState {
  std::string name;     // meshd, istio-ingressgateway, ...
  std::string role;     // "control plane", "ingress gateway", "egress gateway"
  std::string skipped;  // why it does not run here; "" when it does
  std::string binary;
  std::vector<std::string> args;  // the whole command line, args[0] the binary
  int pid = 0;
  std::string startedAt;  // RFC 3339, UTC
  std::string readyUrl;
  std::map<std::string, int> ports;  // xds, monitoring, debug; admin, status
};

struct InstallState {
  std::string meshctlVersion;
  std::string profile;
  bool createdHome = false;  // meshctl made the mesh home, so `uninstall --purge` may remove it
  std::string installedAt;   // when the last install changed something
  nlohmann::json iop;        // the merged IstioOperator the install used
  std::vector<ComponentState> components;

  const ComponentState* find(std::string_view name) const;
};

nlohmann::ordered_json toJson(const InstallState& state);
Result<InstallState> stateFromJson(const nlohmann::json& json, const std::string& path);

// NotFound when there is no state file; InvalidInput (with the file) when it does not parse.
Result<InstallState> readState(const std::filesystem::path& path);
Result<void> writeState(const std::filesystem::path& path, const InstallState& state);

// The current time as RFC 3339 UTC, e.g. 2024-05-01T12:00:00Z.
std::string nowRfc3339();

}  // namespace mesh::local
