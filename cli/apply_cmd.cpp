// meshctl apply -f FILE|DIR|- [-R] and meshctl delete -f ... [--ignore-not-found]: kubectl's
// apply and delete for the local mesh. Every object is loaded and checked exactly as
// `meshctl validate` does; any error prints validate's report and exits 65 with nothing
// written. Then the objects go into (or out of) the mesh home's config directory, all files at
// once (local/local_store.h), where meshd picks them up. Output lines are kubectl's:
// `virtualservice.networking.istio.io/reviews created|configured|unchanged`,
// `virtualservice.networking.istio.io "reviews" deleted`.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "cli/local_mode.h"
#include "cli/validation_report.h"
#include "core/kinds.h"
#include "local/local_store.h"

namespace mesh::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool local = false;
  bool ignoreNotFound = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// kubectl's resource.group form: "virtualservice.networking.istio.io", "service".
std::string kindRef(const core::ResourceKey& key, bool plural) {
  std::string kind = lower(key.kind);
  if (plural) {
    const core::KindInfo* info = core::findKind(key.group, key.kind);
    kind = info ? std::string(info->plural) : kind + "s";
  }
  return key.group.empty() ? kind : kind + "." + key.group;
}

// The local mesh's config directory, or why there is none.
Result<std::filesystem::path> configDir(const ApplyOptions& opts, std::string_view command) {
  auto target = localTarget(opts.local, command);
  if (!target) return Failure(target.error());
  if (!target->home.exists() || !std::filesystem::is_directory(target->home.configDir()))
    return fail(ErrorCode::Unavailable, fmt::format("there is no local mesh in {}", target->home.root().string()),
                "install one first: meshctl install --local -y (or set MESH_HOME to the mesh home you use)");
  return target->home.configDir();
}

// Takes the mesh home's lock: an uninstall --purge must not remove the directory mid-write.
Result<local::HomeLock> lockHome(const std::filesystem::path& config) {
  return local::HomeLock::acquire(local::MeshHome(config.parent_path()), std::chrono::seconds(120),
                                  [] { fmt::print(stderr, "waiting for another meshctl command on this mesh home...\n"); });
}

int runApply(const ApplyOptions& opts) {
  auto dir = configDir(opts, "apply");
  if (!dir) return reportError(dir.error());
  CheckedInput in = loadAndCheck(opts.files, opts.recursive, true);
  printDiagnostics(in);
  if (in.errors) return kExitBadData;
  if (in.loaded.resources.empty())
    return reportError({ErrorCode::InvalidInput, "no objects passed to apply", "give files holding Kubernetes objects"});
  auto lock = lockHome(*dir);
  if (!lock) return reportError(lock.error());
  auto changes = local::applyToConfigDir(*dir, in.loaded.resources);
  if (!changes) return reportError(changes.error());
  for (const auto& c : *changes) {
    std::string_view what = c.kind == local::ChangeKind::Created      ? "created"
                            : c.kind == local::ChangeKind::Configured ? "configured"
                                                                      : "unchanged";
    fmt::print("{}/{} {}\n", kindRef(c.key, false), c.key.name, what);
  }
  return kExitOk;
}

int runDelete(const ApplyOptions& opts) {
  auto dir = configDir(opts, "delete");
  if (!dir) return reportError(dir.error());
  // Only identity is needed to delete: objects that later rules reject can still be removed.
  CheckedInput in = loadAndCheck(opts.files, opts.recursive, false);
  printDiagnostics(in);
  if (in.errors) return kExitBadData;
  if (in.loaded.resources.empty())
    return reportError({ErrorCode::InvalidInput, "no objects passed to delete", "give files holding Kubernetes objects"});
  auto lock = lockHome(*dir);
  if (!lock) return reportError(lock.error());
  auto changes = local::deleteFromConfigDir(*dir, in.loaded.resources);
  if (!changes) return reportError(changes.error());
  bool missing = false;
  for (const auto& c : *changes) {
    if (c.kind == local::ChangeKind::Deleted) {
      fmt::print("{} \"{}\" deleted\n", kindRef(c.key, false), c.key.name);
    } else if (!opts.ignoreNotFound) {
      missing = true;
      fmt::print(stderr, "Error from server (NotFound): error when deleting \"{}\": {} \"{}\" not found\n", c.source,
                 kindRef(c.key, true), c.key.name);
    }
  }
  return missing ? kExitNotFound : kExitOk;
}

void addFileOptions(CLI::App* cmd, ApplyOptions& opts) {
  cmd->add_option("-f,--filename", opts.files, "File, directory or - for stdin; may repeat")
      ->required()
      ->allow_extra_args(false)
      ->type_name("PATH");
  cmd->add_flag("-R,--recursive", opts.recursive, "Read directories given with -f recursively");
  cmd->add_flag("--local", opts.local, "Use the local mesh even when a Kubernetes cluster is configured");
}

}  // namespace

void addApplyCommand(CLI::App& app, RunState& state) {
  auto* apply = app.add_subcommand("apply", "Validates config and writes it into the local mesh (like kubectl apply -f)");
  apply->footer(
      "\nEvery object is checked as `meshctl validate` checks it; if any is invalid nothing is written\n"
      "(exit 65). Objects go into $MESH_HOME/config/, which meshd watches.");
  auto a = std::make_shared<ApplyOptions>();
  addFileOptions(apply, *a);
  apply->callback([a, &state] { state.exitCode = runApply(*a); });

  auto* del = app.add_subcommand("delete", "Removes config from the local mesh (like kubectl delete -f)");
  auto d = std::make_shared<ApplyOptions>();
  addFileOptions(del, *d);
  del->add_flag("--ignore-not-found", d->ignoreNotFound, "Objects that do not exist are not an error");
  del->callback([d, &state] { state.exitCode = runDelete(*d); });
}

}  // namespace mesh::cli
