// meshctl install [--local] [-p PROFILE] [-f FILE]... [--set k=v]... [-y] [--dry-run] [--verify]:
// istioctl's install. On this machine (--local, or when no cluster is configured) it starts
// meshd on the file backend in the mesh home, and the profile's gateways, as background
// processes, and returns once they answer ready: it shows the plan, asks, then prints a line
// per component (✔/✘, a spinner on a terminal). Running it again is a no-op; a crashed
// component is restarted. The logic is in local/installer.h. With a cluster configured (or
// --kubeconfig/--context) and no --local it installs into the cluster: cli/cluster_install.h.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#include "cli/app.h"
#include "cli/cluster_install.h"
#include "cli/console.h"
#include "cli/exit_codes.h"
#include "cli/local_mode.h"
#include "core/validation/duration.h"
#include "core/version.h"
#include "install/operator_config.h"
#include "local/component.h"
#include "local/installer.h"
#include "local/program_probe.h"

namespace mesh::cli {
namespace {

struct InstallOptions {
  bool local = false;
  std::vector<std::string> files;
  std::vector<std::string> sets;
  std::string profile;
  std::string revision;
  std::string manifests;
  bool yes = false;
  bool dryRun = false;
  bool verify = false;
  bool force = false;
  std::string readinessTimeout;  // "": 60s on this machine, 5m on a cluster
  ClusterFlags cluster;
  std::string meshd;
  std::string meshproxy;
};

// Installing into a Kubernetes cluster: cli/cluster_install.h does the work.
int installIntoCluster(const InstallOptions& opts, std::chrono::milliseconds readinessTimeout) {
  ClusterInstallOptions cluster;
  cluster.cluster = opts.cluster;
  cluster.manifest = ManifestFlags{opts.manifests, opts.files, opts.sets, opts.profile, opts.revision};
  cluster.yes = opts.yes;
  cluster.dryRun = opts.dryRun;
  cluster.verify = opts.verify;
  cluster.force = opts.force;
  cluster.readinessTimeout = readinessTimeout;
  return runClusterInstall(cluster);
}

class InstallLines final : public local::InstallObserver {
 public:
  explicit InstallLines(StatusPrinter& out) : out_(out) {}
  void waitingForLock() override { out_.line("waiting for another meshctl command on this mesh home to finish..."); }
  void starting(const local::Component& c, std::string_view what) override {
    text_ = fmt::format("{}: {}", c.name, what);
    out_.spin(text_);
  }
  void waiting(const local::Component& c) override {
    if (text_.empty() || !text_.starts_with(c.name + ":")) text_ = fmt::format("{}: checking", c.name);
    out_.spin(text_);
  }
  void finished(const local::StepReport& r) override {
    text_.clear();
    switch (r.outcome) {
      case local::StepOutcome::AlreadyRunning:
        out_.ok(fmt::format("{}: already running ({})", r.component, r.detail));
        break;
      case local::StepOutcome::Started: out_.ok(fmt::format("{}: started ({})", r.component, r.detail)); break;
      case local::StepOutcome::Restarted: out_.ok(fmt::format("{}: restarted ({})", r.component, r.detail)); break;
      case local::StepOutcome::Stopped: out_.ok(fmt::format("{}: stopped ({})", r.component, r.detail)); break;
      case local::StepOutcome::Skipped: out_.skip(fmt::format("{}: skipped — {}", r.component, r.detail)); break;
      case local::StepOutcome::Failed: out_.fail(fmt::format("{}: {}", r.component, r.detail), r.hints); break;
    }
  }

 private:
  StatusPrinter& out_;
  std::string text_;
};

std::string portsText(const local::Component& c) {
  std::vector<std::string> parts;
  for (const auto& p : c.ports) parts.push_back(fmt::format("{} {}", p.name, p.port));
  return fmt::format("127.0.0.1: {}", fmt::join(parts, ", "));
}

void printPlan(const local::MeshHome& home, const std::string& profile,
               const std::vector<local::Component>& components) {
  fmt::print("Local mesh: the {} profile in {}\n", profile, home.root().string());
  fmt::print("  config  {}  (meshd watches it; `meshctl apply -f` writes it)\n", home.configDir().string());
  fmt::print("  logs    {}\n", home.logsDir().string());
  if (components.empty()) fmt::print("  components: none (this profile runs nothing on this machine)\n");
  size_t width = 0;
  for (const auto& c : components) width = std::max(width, c.name.size());
  for (const auto& c : components) {
    if (!c.skipped.empty())
      fmt::print("  {:<{}}  {:<15}  skipped — {}\n", c.name, width, c.role, c.skipped);
    else
      fmt::print("  {:<{}}  {:<15}  {}  ({})\n", c.name, width, c.role, portsText(c), c.binary.string());
  }
}

int runInstall(const InstallOptions& opts) {
  const bool onCluster = clusterSelected(opts.local, opts.cluster);
  const std::string timeoutText = !opts.readinessTimeout.empty() ? opts.readinessTimeout : onCluster ? "5m" : "60s";
  std::string timeoutError;
  auto timeoutNs = core::validation::parseDuration(timeoutText, &timeoutError);
  if (!timeoutNs || *timeoutNs <= 0)
    return reportError({ErrorCode::Usage,
                        fmt::format("--readiness-timeout {}: {}", timeoutText,
                                    timeoutNs ? "must be more than 0" : timeoutError),
                        "use a duration such as 60s or 2m"});
  if (onCluster) return installIntoCluster(opts, std::chrono::milliseconds(*timeoutNs / 1000000));
  if (opts.force)
    return reportError({ErrorCode::Usage, "--force is for installs into a cluster (it takes over fields other "
                                          "field managers own)", "leave it out with --local"});
  local::Environment env = local::Environment::current();
  auto home = local::MeshHome::resolve(env);
  if (!home) return reportError(home.error());

  auto iop = install::buildOperator(
      install::InstallFlags{opts.manifests, opts.files, opts.sets, opts.profile, opts.revision});
  if (!iop) return reportError(iop.error());
  std::string profile = (*iop)["spec"].value("profile", "default");

  local::ComponentInputs componentInputs;
  componentInputs.meshd = local::meshdSpec(opts.meshd);
  componentInputs.meshproxy = local::meshproxySpec(opts.meshproxy);
  componentInputs.probe = local::gatewayUnsupportedReason;
  auto components = local::planComponents(*iop, *home, env, componentInputs);
  if (!components) return reportError(components.error());

  printPlan(*home, profile, *components);
  if (opts.dryRun) {
    fmt::print("Dry run: nothing was started or written.\n");
    return kExitOk;
  }
  if (!opts.yes) {
    std::vector<std::string> names;
    for (const auto& c : *components) names.push_back(fmt::format("\"{}\"", c.name));
    std::string prompt = fmt::format(
        "This will install the meshctl {} {} profile with [{}] components on this machine. Proceed? (y/N)",
        kVersion, profile, fmt::join(names, " "));
    if (!confirmOrCancel(prompt, "install")) return kExitDeclined;
  }

  local::InstallRequest request;
  request.profile = profile;
  request.iop = *iop;
  request.components = *components;
  request.readinessTimeout = std::chrono::milliseconds(*timeoutNs / 1000000);
  StatusPrinter out(stdout);
  InstallLines lines(out);
  auto result = local::installLocal(*home, request, lines);
  if (!result) return reportError(result.error());
  if (!result->ok) {
    size_t failed = std::ranges::count_if(result->steps, [](const auto& s) { return s.outcome == local::StepOutcome::Failed; });
    out.fail(fmt::format("Installation failed: {} component{} not ready", failed, failed == 1 ? "" : "s"),
             {"fix what is shown above and run `meshctl install --local` again; it keeps what is running"});
    return kExitUnavailable;
  }
  out.ok(fmt::format("Installation complete{}", result->changed ? "" : " (nothing changed)"));
  if (opts.verify) {
    fmt::print("\n");
    return printLocalVerification(*home);
  }
  const char* local = opts.local ? " --local" : "";
  fmt::print("Next: meshctl apply{} -f samples/payments; meshctl verify-install{}\n", local, local);
  return kExitOk;
}

}  // namespace

void addInstallCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand(
      "install", "Installs the mesh and waits until it is ready (on this machine: --local)");
  cmd->footer(
      "\nInto a cluster (a kubeconfig is found, or --kubeconfig/--context, and no --local) meshctl\n"
      "server-side applies the manifest `manifest generate` renders, component by component, and waits\n"
      "for CRDs to be Established and Deployments ready; running it again applies only what differs.\n"
      "On this machine meshctl starts meshd (and the profile's gateways) as background processes\n"
      "in the mesh home ($MESH_HOME, default ~/.meshctl). Running install again changes only what\n"
      "differs: it restarts a crashed component and leaves a healthy one alone. Ports:\n"
      "--set values.local.xdsPort=15010 --set values.local.monitoringPort=15014 --set values.local.debugPort=15015\n"
      "--set values.local.caPort=15012 (meshd's CA, whose root and token are in $MESH_HOME/ca)");
  auto opts = std::make_shared<InstallOptions>();
  cmd->add_flag("--local", opts->local, "Install on this machine even when a Kubernetes cluster is configured");
  cmd->add_option("-f,--filename", opts->files, "IstioOperator overlay, merged over the profile in order (repeatable)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  cmd->add_option("-s,--set", opts->sets,
                  "Override a value: path=value, e.g. values.local.xdsPort=16010 (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-p,--profile", opts->profile, "Profile to install (same as --set profile=NAME)");
  cmd->add_option("-r,--revision", opts->revision, "Control plane revision (same as --set revision=REV)");
  cmd->add_option("-d,--manifests", opts->manifests, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  cmd->add_flag("-y,--skip-confirmation", opts->yes, "Do not ask before installing (scripts need it)");
  cmd->add_flag("--dry-run", opts->dryRun, "Show what would be installed and change nothing");
  cmd->add_flag("--verify", opts->verify, "Run verify-install once the install is complete");
  cmd->add_option("--readiness-timeout", opts->readinessTimeout,
                  "How long to wait for each component to become ready (default 60s on this machine, 5m on a cluster)")
      ->type_name("DURATION");
  cmd->add_flag("--force", opts->force,
                "Cluster only: take over fields another field manager owns instead of failing on the conflict");
  addClusterFlags(*cmd, opts->cluster);
  cmd->add_option("--meshd", opts->meshd, "The meshd program to run (default: $MESHCTL_MESHD, beside meshctl or in its build tree, PATH)")
      ->type_name("PATH");
  cmd->add_option("--meshproxy", opts->meshproxy,
                  "The meshproxy program gateways run (default: $MESHCTL_MESHPROXY, as for --meshd)")
      ->type_name("PATH");
  cmd->callback([opts, &state] { state.exitCode = runInstall(*opts); });
}

}  // namespace mesh::cli
