// meshctl uninstall [--local] [-y] [--purge]: removes what install put on this machine. Shows
// what it will stop and remove, asks (unless -y), stops the processes (SIGTERM, then SIGKILL
// after 10 s) and removes run/, logs/ and state.yaml; config/ stays unless --purge. Nothing
// installed is not an error: "nothing to uninstall", exit 0. The logic is in
// local/uninstaller.h. From a cluster (a kubeconfig is found, or --kubeconfig/--context, and no
// --local) it deletes what meshctl installed, found by its labels: cli/cluster_uninstall.h.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/cluster_uninstall.h"
#include "cli/console.h"
#include "cli/exit_codes.h"
#include "cli/local_mode.h"
#include "local/uninstaller.h"

namespace mesh::cli {
namespace {

struct UninstallOptions {
  bool local = false;
  bool yes = false;
  bool purge = false;
  ClusterFlags cluster;
};

class UninstallLines final : public local::UninstallObserver {
 public:
  explicit UninstallLines(StatusPrinter& out) : out_(out) {}
  void waitingForLock() override { out_.line("waiting for another meshctl command on this mesh home to finish..."); }
  void stopping(const local::UninstallPlan::Process& p) override {
    out_.spin(fmt::format("{}: stopping (pid {})", p.component, p.pid));
  }
  void stopped(const local::UninstallPlan::Process& p, std::string_view how) override {
    out_.ok(fmt::format("{}: {} (pid {})", p.component, how, p.pid));
  }
  void removed(const std::filesystem::path& path) override { out_.ok(fmt::format("removed {}", path.string())); }

 private:
  StatusPrinter& out_;
};

void printPlan(const local::MeshHome& home, const local::UninstallPlan& plan) {
  fmt::print("This will remove the local mesh in {}:\n", home.root().string());
  for (const auto& p : plan.processes) {
    if (p.running) fmt::print("  stop {} (pid {})\n", p.component, p.pid);
    else fmt::print("  forget {} (pid {} is not running)\n", p.component, p.pid);
  }
  if (plan.removeHome)
    fmt::print("  remove {} and everything in it, config/ too (meshctl created it)\n", home.root().string());
  else
    for (const auto& p : plan.remove) fmt::print("  remove {}\n", p.string());
  for (const auto& p : plan.keep) fmt::print("  keep {} (--purge removes it)\n", p.string());
  if (!plan.keepHomeWhy.empty())
    fmt::print("  keep {} itself: {}\n", home.root().string(), plan.keepHomeWhy);
}

int runUninstall(const UninstallOptions& opts) {
  if (clusterSelected(opts.local, opts.cluster))
    return runClusterUninstall(ClusterUninstallOptions{opts.cluster, opts.yes, opts.purge});
  auto target = localTarget(opts.local, "uninstall");
  if (!target) return reportError(target.error());
  const local::MeshHome& home = target->home;
  local::UninstallPlan plan = local::planUninstall(home, opts.purge);
  if (plan.empty()) {
    fmt::print("nothing to uninstall in {}\n", home.root().string());
    return kExitOk;
  }
  printPlan(home, plan);
  if (!opts.yes) {
    if (!confirmOrCancel("Proceed? (y/N)", "uninstall")) return kExitDeclined;
  }
  StatusPrinter out(stdout);
  UninstallLines lines(out);
  auto done = local::uninstallLocal(home, opts.purge, std::chrono::seconds(10), lines);
  if (!done) return reportError(done.error());
  if (done->empty()) {
    out.ok("nothing to uninstall (another meshctl command removed it meanwhile)");
    return kExitOk;
  }
  out.ok(done->keep.empty() ? std::string("Uninstall complete")
                            : fmt::format("Uninstall complete ({} kept)", home.configDir().string()));
  return kExitOk;
}

}  // namespace

void addUninstallCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("uninstall", "Stops and removes what install put on this machine (asks first)");
  cmd->footer(
      "\nStops every process meshctl started in the mesh home ($MESH_HOME, default ~/.meshctl) and\n"
      "removes its run/, logs/ and state.yaml. config/ (what `meshctl apply` wrote) stays unless\n"
      "--purge; --purge removes the mesh home itself only if meshctl created it.\n"
      "From a cluster (a kubeconfig is found, or --kubeconfig/--context) it deletes, gateways first,\n"
      "every object labelled app.kubernetes.io/managed-by=meshctl; the CRDs and the namespace only\n"
      "with --purge (deleting the CRDs deletes every Istio config object in the cluster).");
  auto opts = std::make_shared<UninstallOptions>();
  cmd->add_flag("--local", opts->local, "Uninstall the local mesh even when a Kubernetes cluster is configured");
  cmd->add_flag("-y,--skip-confirmation", opts->yes, "Do not ask before uninstalling");
  cmd->add_flag("--purge", opts->purge,
                "Also remove config/ (and the mesh home, if meshctl created it); on a cluster the CRDs and namespace");
  addClusterFlags(*cmd, opts->cluster);
  cmd->callback([opts, &state] { state.exitCode = runUninstall(*opts); });
}

}  // namespace mesh::cli
