// meshctl verify-install [--local]: checks that every component of the install exists and is
// ready, as a ✔/✘ list with hints under each failure (linkerd check's manner); exit 0 when all
// pass, 69 otherwise. For the local mesh it reads state.yaml and probes each component's process
// and endpoints (local/verifier.h). Against a cluster (a kubeconfig is found, or
// --kubeconfig/--context, and no --local) it checks every object of the manifest, rendered from
// -p/--set or read with -f from a saved manifest (cli/cluster_verify.h).
#include <fmt/format.h>

#include <chrono>

#include "cli/app.h"
#include "cli/cluster_verify.h"
#include "cli/console.h"
#include "cli/exit_codes.h"
#include "cli/local_mode.h"
#include "local/verifier.h"

namespace mesh::cli {
namespace {

struct VerifyOptions {
  bool local = false;
  std::vector<std::string> files;
  ClusterFlags cluster;
  ManifestFlags manifest;  // -f is the manifest itself here, so manifest.files stays empty
};

class CheckLines final : public local::CheckObserver {
 public:
  explicit CheckLines(StatusPrinter& out) : out_(out) {}
  void report(const local::CheckResult& r) override {
    if (r.category != category_) {
      if (!category_.empty()) out_.line("");
      out_.line(r.category);
      out_.line(std::string(r.category.size(), '-'));
      category_ = r.category;
    }
    switch (r.status) {
      case local::CheckStatus::Passed: out_.ok(r.title, r.hints); break;
      case local::CheckStatus::Failed: out_.fail(r.title, r.hints); break;
      case local::CheckStatus::Skipped: out_.skip(r.title); break;
    }
  }

 private:
  StatusPrinter& out_;
  std::string category_;
};

int runVerify(const VerifyOptions& opts) {
  if (clusterSelected(opts.local, opts.cluster))
    return runClusterVerify(ClusterVerifyOptions{opts.cluster, opts.manifest, opts.files});
  auto target = localTarget(opts.local, "verify-install");
  if (!target) return reportError(target.error());
  if (!opts.files.empty())
    return reportError({ErrorCode::Usage,
                        "verify-install -f checks a cluster against a manifest; the local mesh is checked "
                        "against its own state.yaml",
                        "run `meshctl verify-install --local` without -f"});
  return printLocalVerification(target->home);
}

}  // namespace

int printLocalVerification(const local::MeshHome& home) {
  fmt::print("Checking the local mesh in {}\n\n", home.root().string());
  StatusPrinter out(stdout);
  CheckLines lines(out);
  bool ok = local::verifyLocal(home, lines, std::chrono::seconds(5));
  out.line("");
  out.line(ok ? "Status check results are ✔" : "Status check results are ✘");
  return ok ? kExitOk : kExitUnavailable;
}

void addVerifyInstallCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("verify-install",
                                 "Checks that every component of the install is running and ready (✔/✘ with hints)");
  cmd->footer(
      "\nThe local mesh (--local, or when no cluster is configured) is checked from its state.yaml:\n"
      "each process, its readiness endpoint, meshd's /version, debug API and config errors.\n"
      "A cluster (a kubeconfig is found, or --kubeconfig/--context) is checked against the manifest\n"
      "install renders (-p/--set, as install takes them) or a saved one (-f): each object exists,\n"
      "CRDs are Established and Deployments ready.\n"
      "Exit code 0 when every check passes, 69 when one fails.");
  auto opts = std::make_shared<VerifyOptions>();
  cmd->add_flag("--local", opts->local, "Check the local mesh even when a Kubernetes cluster is configured");
  cmd->add_option("-f,--filename", opts->files,
                  "Cluster only (not for the local mesh): the install manifest to check the cluster against")
      ->type_name("PATH")
      ->allow_extra_args(false);
  cmd->add_option("-s,--set", opts->manifest.sets, "Cluster only: override a value of the manifest to check (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-p,--profile", opts->manifest.profile, "Cluster only: the profile installed (same as --set profile=NAME)");
  cmd->add_option("-r,--revision", opts->manifest.revision, "Cluster only: the control plane revision installed");
  cmd->add_option("-d,--manifests", opts->manifest.manifests, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  addClusterFlags(*cmd, opts->cluster);
  cmd->callback([opts, &state] { state.exitCode = runVerify(*opts); });
}

}  // namespace mesh::cli
