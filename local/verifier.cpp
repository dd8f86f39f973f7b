#include "local/verifier.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <system_error>

#include "backends/file/file_io.h"
#include "local/debug_probe.h"
#include "local/install_state.h"
#include "local/installer.h"
#include "local/process_supervisor.h"
#include "local/readiness.h"

namespace mesh::local {
namespace {

constexpr std::string_view kReinstall = "run `meshctl install --local` to start it again";

class Verifier {
 public:
  Verifier(const MeshHome& home, CheckObserver& observer, std::chrono::milliseconds timeout)
      : home_(home), observer_(observer), timeout_(timeout), supervisor_(home) {}

  bool run() {
    std::string category = "mesh home";
    if (!check(category, fmt::format("mesh home {} exists", home_.root().string()), home_.exists(),
               {"nothing is installed here: install the local mesh with `meshctl install --local`",
                "or point MESH_HOME at the mesh home you installed"}))
      return ok_;
    checkConfigDir(category);
    auto state = readState(home_.statePath());
    if (!state) {
      check(category, fmt::format("state file {} is readable", home_.statePath().string()), false,
            {state.error().message,
             state.error().code == ErrorCode::NotFound ? "the last install did not finish: run `meshctl install --local`"
                                                       : std::string(state.error().hint)});
      return ok_;
    }
    check(category,
          fmt::format("state file is readable ({} profile, installed {})", state->profile, state->installedAt), true,
          {});
    for (const ComponentState& c : state->components) checkComponent(c);
    return ok_;
  }

 private:
  bool check(const std::string& category, std::string title, bool passed, std::vector<std::string> hints) {
    std::erase_if(hints, [](const std::string& h) { return h.empty(); });
    observer_.report({category, std::move(title), passed ? CheckStatus::Passed : CheckStatus::Failed,
                      passed ? std::vector<std::string>{} : std::move(hints)});
    ok_ = ok_ && passed;
    return passed;
  }

  void checkConfigDir(const std::string& category) {
    std::error_code ec;
    const auto dir = home_.configDir();
    bool readable = std::filesystem::is_directory(dir, ec);
    if (readable) std::filesystem::directory_iterator(dir, ec);
    if (!readable || ec) {
      check(category, fmt::format("config directory {} is readable", dir.string()), false,
            {ec ? ec.message() : "it does not exist", "`meshctl install --local` creates it"});
      return;
    }
    size_t files = backends::scanConfigFiles(dir, "").size();
    check(category, fmt::format("config directory is readable ({} file{})", files, files == 1 ? "" : "s"), true, {});
  }

  void checkComponent(const ComponentState& c) {
    // meshd's checks under its name; the gateways together, as most of them are alike.
    const std::string category = c.role == "control plane" ? c.name : std::string("gateways");
    if (!c.skipped.empty()) {
      observer_.report({category, fmt::format("{}: skipped — {}", c.name, c.skipped), CheckStatus::Skipped, {}});
      return;
    }
    ProcessSupervisor::Status status = supervisor_.status(c.name);
    if (status.state != ProcessSupervisor::State::Running) {
      std::vector<std::string> hints;
      hints.push_back(status.state == ProcessSupervisor::State::NotStarted
                          ? fmt::format("no pid file {}", home_.pidFile(c.name).string())
                          : status.why);
      hints.emplace_back(kReinstall);
      auto tail = logTail(home_, c.name, 10);
      if (!tail.empty()) {
        hints.push_back(fmt::format("last lines of {}:", home_.logFile(c.name).string()));
        hints.insert(hints.end(), tail.begin(), tail.end());
      }
      check(category, fmt::format("{} is running", c.name), false, std::move(hints));
      return;
    }
    check(category, fmt::format("{} is running (pid {})", c.name, status.record.pid), true, {});
    if (status.record.argv != c.args)
      check(category, fmt::format("{} runs with the installed settings", c.name), false,
            {fmt::format("pid {} was started with other flags than state.yaml records", status.record.pid),
             "run `meshctl install --local` with the settings you want; it restarts what differs"});

    auto ready = httpGet(c.readyUrl, timeout_);
    bool isReady = ready && ready->status == 200;
    check(category, fmt::format("{} is ready (GET {})", c.name, c.readyUrl), isReady,
          {ready ? fmt::format("answered {}: {}", ready->status, firstLine(ready->body)) : ready.error().message,
           fmt::format("see {}", home_.logFile(c.name).string())});
    if (c.role == "control plane") checkMeshd(c);
  }

  void checkMeshd(const ComponentState& c) {
    const std::string& category = c.name;
    auto port = [&](const char* name) { return c.ports.contains(name) ? c.ports.at(name) : 0; };
    const std::string monitoring = fmt::format("http://127.0.0.1:{}", port("monitoring"));

    auto version = httpGet(monitoring + "/version", timeout_);
    std::string v;
    if (version && version->status == 200) {
      auto j = nlohmann::json::parse(version->body, nullptr, false);
      if (j.is_object()) v = j.value("version", "");
    }
    check(category, v.empty() ? fmt::format("{} answers /version", c.name)
                              : fmt::format("{} answers /version ({})", c.name, v),
          !v.empty(), {version ? fmt::format("GET {}/version answered {}", monitoring, version->status)
                               : version.error().message});

    const std::string debugAddress = fmt::format("127.0.0.1:{}", port("debug"));
    auto debug = debugApiVersion(debugAddress, timeout_);
    check(category,
          debug ? fmt::format("{}'s debug API answers on {} (GetVersion: {})", c.name, debugAddress, debug->version)
                : fmt::format("{}'s debug API answers on {}", c.name, debugAddress),
          debug.has_value(), {debug ? std::string() : debug.error().message});

    auto errors = httpGet(monitoring + "/debug/config_errors", timeout_);
    auto body = errors && errors->status == 200 ? nlohmann::json::parse(errors->body, nullptr, false)
                                                 : nlohmann::json();
    if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array()) {
      check(category, fmt::format("{} reports its config errors", c.name), false,
            {errors ? fmt::format("GET {}/debug/config_errors answered {}", monitoring, errors->status)
                    : errors.error().message});
      return;
    }
    std::vector<std::string> problems, warnings;
    for (const auto& e : body["errors"]) {
      std::string where = e.value("file", "");
      if (e.value("line", 0) > 0) where += fmt::format(":{}", e.value("line", 0));
      std::string line = fmt::format("{}: {}", where.empty() ? "(no file)" : where, e.value("resource", ""));
      if (!e.value("field", "").empty()) line += ": " + e.value("field", "");
      line += ": " + e.value("message", "");
      (e.value("severity", "error") == "warning" ? warnings : problems).push_back(line);
    }
    uint64_t generation = body.value("generation", uint64_t{0});
    if (problems.empty()) {
      CheckResult r{category,
                    fmt::format("{} reports no config errors (config generation {}{})", c.name, generation,
                                warnings.empty() ? "" : fmt::format(", {} warnings", warnings.size())),
                    CheckStatus::Passed, warnings};
      observer_.report(r);
      return;
    }
    const size_t found = problems.size();
    problems.push_back(fmt::format("meshd leaves this config out; fix the files in {} (meshctl validate -f {} -R)",
                                   home_.configDir().string(), home_.configDir().string()));
    check(category, fmt::format("{} reports no config errors ({} found)", c.name, found), false, std::move(problems));
  }

  static std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

  const MeshHome& home_;
  CheckObserver& observer_;
  std::chrono::milliseconds timeout_;
  ProcessSupervisor supervisor_;
  bool ok_ = true;
};

}  // namespace

bool verifyLocal(const MeshHome& home, CheckObserver& observer, std::chrono::milliseconds probeTimeout) {
  return Verifier(home, observer, probeTimeout).run();
}

}  // namespace mesh::local
