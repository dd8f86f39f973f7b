// meshctl version [-o json|yaml|short] [--remote=false]: istioctl's shapes, so scripts that read
// `istioctl version -o json` read ours. With a reachable meshd (--meshd, else the local mesh's,
// else 127.0.0.1:15015) also the control plane's version and the versions its proxies report.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "cli/meshd_client.h"
#include "core/version.h"

namespace mesh::cli {
namespace {

struct VersionOptions {
  std::string output;
  bool shortFlag = false;
  bool remote = true;
  MeshdFlags meshd;
};

nlohmann::ordered_json clientVersion() {
  return {{"version", std::string(kVersion)},
          {"revision", std::string(gitRevision())},
          {"status", "Clean"},
          {"tag", std::string(kVersion)},
          {"compiler", fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)}};
}

// The remote parts of istioctl's JSON: meshVersion (one per control plane instance) and
// dataPlaneVersion (one per proxy). Fails when meshd does not answer.
Result<nlohmann::ordered_json> remoteVersions(const MeshdClient& client) {
  auto info = client.version();
  if (!info) return Failure(info.error());
  auto proxies = client.listProxies();
  if (!proxies) return Failure(proxies.error());
  nlohmann::ordered_json out;
  out["meshVersion"] = nlohmann::ordered_json::array(
      {{{"Component", "meshd"},
        {"Revision", "default"},
        {"Info",
         {{"version", info->version()},
          {"revision", info->git_revision()},
          {"status", "Clean"},
          {"tag", info->version()},
          {"instance", info->meshd_instance()},
          {"grpcVersion", info->grpc_version()},
          {"protobufVersion", info->protobuf_version()}}}}});
  nlohmann::ordered_json dataPlane = nlohmann::ordered_json::array();
  for (const auto& p : proxies->proxies())
    dataPlane.push_back({{"ID", p.proxy_id()}, {"IstioVersion", p.proxy_version()}});
  out["dataPlaneVersion"] = std::move(dataPlane);
  return out;
}

// "1.2.0 (3 proxies), 1.1.0 (1 proxies)" as istioctl counts them, newest count first.
std::string dataPlaneSummary(const nlohmann::ordered_json& dataPlane) {
  std::map<std::string, int> counts;
  for (const auto& p : dataPlane) {
    std::string v = p["IstioVersion"].get<std::string>();
    ++counts[v.empty() ? "unknown" : v];
  }
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [version, n] : sorted) out += fmt::format("{}{} ({} proxies)", out.empty() ? "" : ", ", version, n);
  return out;
}

void printYaml(const nlohmann::ordered_json& v, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  for (const auto& [key, value] : v.items()) {
    if (value.is_object()) {
      fmt::print("{}{}:\n", pad, key);
      printYaml(value, indent + 2);
    } else if (value.is_array()) {
      fmt::print("{}{}:\n", pad, key);
      for (const auto& item : value) {
        bool first = true;
        for (const auto& [k, x] : item.items()) {
          std::string lead = first ? pad + "- " : pad + "  ";
          first = false;
          if (x.is_object()) {
            fmt::print("{}{}:\n", lead, k);
            printYaml(x, indent + 4);
          } else {
            fmt::print("{}{}: {}\n", lead, k, x.dump());
          }
        }
      }
    } else {
      fmt::print("{}{}: {}\n", pad, key, value.dump());
    }
  }
}

int run(const VersionOptions& o) {
  nlohmann::ordered_json v = {{"clientVersion", clientVersion()}};
  if (o.shortFlag || o.output == "short") {
    fmt::print("{}\n", kVersion);
    return kExitOk;
  }
  if (o.remote) {
    auto client = MeshdClient::open(o.meshd);
    if (!client) return reportError(client.error());
    auto remote = remoteVersions(*client);
    if (remote) {
      v.update(*remote);
    } else if (!o.meshd.address.empty()) {
      return reportError(remote.error());  // asked for this meshd by name: its absence is an error
    } else {
      fmt::print(stderr, "meshd is not reachable at {} ({}); showing the client only\n", client->address(),
                 client->origin());
    }
  }
  if (o.output == "json") {
    fmt::print("{}\n", v.dump(2));
  } else if (o.output == "yaml") {
    printYaml(v, 0);
  } else {
    fmt::print("client version: {}\n", kVersion);
    if (v.contains("meshVersion")) {
      fmt::print("control plane version: {}\n", v["meshVersion"][0]["Info"]["version"].get<std::string>());
      if (!v["dataPlaneVersion"].empty()) fmt::print("data plane version: {}\n", dataPlaneSummary(v["dataPlaneVersion"]));
    }
  }
  return kExitOk;
}

}  // namespace

void addVersionCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("version", "Prints out build version information");
  auto opts = std::make_shared<VersionOptions>();
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format"), {"json", "yaml", "short"});
  cmd->add_flag("-s,--short", opts->shortFlag, "Print only the version number");
  cmd->add_flag("--remote{true}", opts->remote, "Also show meshd's version and its proxies' (--remote=false: not)");
  addMeshdFlags(cmd, opts->meshd);
  cmd->callback([opts, &state] { state.exitCode = run(*opts); });
}

}  // namespace mesh::cli
