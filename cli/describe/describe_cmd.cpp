// meshctl describe pod|workload|service NAME[.NAMESPACE]: istioctl's `x describe`, from config.
// The config is what `meshctl analyze` reads: the live config (the cluster when one is
// configured, else the local mesh's store, else nothing) plus -f files, which replace live
// objects of the same kind, namespace and name. Exit 0 when found, 1 when NAME is not (with
// kubectl's `pods "x" not found`), 64 for usage, 65 when a file cannot be read.
#include <fmt/format.h>

#include <set>

#include "analyzers/mesh_config.h"
#include "cli/app.h"
#include "cli/describe/describe.h"
#include "cli/exit_codes.h"
#include "cli/live_config.h"
#include "core/loader.h"
#include "core/store/config_store.h"

namespace mesh::cli {
namespace {

struct DescribeOptions {
  std::string name;
  std::string ns = "default";
  std::vector<std::string> files;
  bool recursive = false;
  LiveConfigOptions live;
  std::string output = "text";
};

int runDescribe(const DescribeOptions& opts, describe::TargetKind kind) {
  core::LoadOptions load;
  load.recursive = opts.recursive;
  load.defaultNamespace = opts.ns;
  core::LoadResult loaded;
  if (!opts.files.empty()) loaded = core::loadPaths(opts.files, load);
  for (const auto& d : loaded.diagnostics) fmt::print(stderr, "Error: {}\n", d.format());
  if (!loaded.diagnostics.empty()) return kExitBadData;

  auto live = loadLiveConfig(opts.live);
  if (!live) return reportError(live.error());
  std::vector<core::Resource> resources;
  std::set<core::ResourceKey> fromFiles;
  for (const auto& r : loaded.resources) fromFiles.insert(core::ResourceKey::of(r));
  for (auto& r : live->resources)
    if (!fromFiles.contains(core::ResourceKey::of(r))) resources.push_back(std::move(r));
  for (auto& r : loaded.resources) resources.push_back(std::move(r));
  analysis::Snapshot snapshot(std::move(resources), analysis::defaultMeshConfig(), nlohmann::json::object());

  describe::Request request{kind, opts.name, opts.ns};
  auto described = describe::describe(snapshot, request);
  if (!described) {
    // kubectl's and istioctl's NotFound: `Error: pods "x" not found`, exit 1.
    if (described.error().code == ErrorCode::NotFound) {
      fmt::print(stderr, "Error: {}\n", described.error().message);
      return kExitNotFound;
    }
    return reportError(described.error());
  }
  if (opts.output == "json") fmt::print("{}\n", describe::toJson(*described).dump(2));
  else fmt::print("{}", describe::renderText(*described));
  return kExitOk;
}

void addTarget(CLI::App& parent, RunState& state, std::string_view name, std::string_view alias, std::string help,
               describe::TargetKind kind) {
  auto* cmd = parent.add_subcommand(std::string(name), std::move(help));
  cmd->alias(std::string(alias));
  auto opts = std::make_shared<DescribeOptions>();
  cmd->add_option("name", opts->name, "NAME or NAME.NAMESPACE")->required()->type_name("NAME");
  cmd->add_option("-n,--namespace", opts->ns, "Namespace of NAME when it names none")->default_str("default");
  cmd->add_option("-f,--file", opts->files, "Config files or directories, - for stdin (repeatable); they replace live objects")
      ->type_name("PATH")
      ->allow_extra_args(false);
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories recursively");
  cmd->add_flag("--local", opts->live.local, "Read the local mesh even when a cluster is configured");
  cmd->add_option("--kubeconfig", opts->live.kubeconfig, "kubeconfig file for the cluster's config");
  cmd->add_option("--context", opts->live.context, "kubeconfig context");
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format")->default_str("text"), {"text", "json"});
  cmd->callback([opts, &state, kind] { state.exitCode = runDescribe(*opts, kind); });
}

}  // namespace

void addDescribeCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("describe", "Describe a pod, workload or service and the mesh config that applies to it");
  cmd->alias("des");
  cmd->require_subcommand(1);
  addTarget(*cmd, state, "pod", "po",
            "Describe a pod: its Services, DestinationRules, VirtualServices, mTLS, authorization and ingress",
            describe::TargetKind::Pod);
  addTarget(*cmd, state, "workload", "we",
            "Describe a WorkloadEntry (local mesh workloads are), else a pod, as `describe pod` does",
            describe::TargetKind::Workload);
  addTarget(*cmd, state, "service", "svc",
            "Describe a Service or ServiceEntry host: its workloads, DestinationRule, VirtualServices and ingress",
            describe::TargetKind::Service);
}

}  // namespace mesh::cli
