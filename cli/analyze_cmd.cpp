// meshctl analyze [FILE|DIR ...]: runs Istio's analyzers over config and prints istioctl's
// output shapes (log lines, or -o json|yaml). With --use-kube (the default, as istioctl's) the
// live config is read too: the cluster when one is configured, else the local mesh's store,
// and files replace live objects of the same kind, namespace and name. Unlike istioctl with
// --use-kube=false, every kind in the files is read (Namespace, Service, Pod, Node, Secret too),
// so every analyzer can run in CI. Exit 79 when, in log output, a message reaches
// --failure-threshold.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "analyzers/mesh_config.h"
#include "analyzers/registry.h"
#include "analyzers/runner.h"
#include "cli/app.h"
#include "cli/exit_codes.h"
#include "cli/live_config.h"
#include "core/loader.h"
#include "core/store/config_store.h"
#include "core/yaml/node.h"

namespace mesh::cli {
namespace {

struct AnalyzeOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool useKube = true;
  LiveConfigOptions live;
  bool allNamespaces = false;
  std::string ns;
  std::vector<std::string> analyzers;
  bool list = false;
  std::string output = "log";
  std::string meshConfigFile;
  std::string meshNetworksFile;
  std::vector<std::string> suppress;
  std::string failureThreshold = "Error";
  std::string outputThreshold = "Info";
  bool verbose = false;
  std::string istioNamespace;
  bool color = true;
  bool ignoreUnknown = false;
};

// Namespaces that belong to Kubernetes itself; istioctl never analyzes them.
const std::set<std::string_view> kIgnoredNamespaces = {"kube-system", "kube-public", "kube-node-lease",
                                                       "local-path-storage"};

analysis::Level levelFromName(const std::string& s) {
  if (s == "Info") return analysis::Level::Info;
  if (s == "Warning") return analysis::Level::Warning;
  return analysis::Level::Error;
}

std::string docUrl(const analysis::MessageType& t) {
  std::string code(t.code);
  std::transform(code.begin(), code.end(), code.begin(), ::tolower);
  // The codes are Istio's, so Istio's page for each is the shared reference; ours, with the
  // same anchors, is docs/analysis-messages.md in the repository and release archives.
  return fmt::format("https://istio.io/latest/docs/reference/config/analysis/{}/?ref=meshctl-analyze", code);
}

nlohmann::ordered_json toJson(const analysis::Message& m) {
  nlohmann::ordered_json j;
  j["code"] = std::string(m.type->code);
  j["documentationUrl"] = docUrl(*m.type);
  j["level"] = std::string(analysis::levelName(m.type->level));
  j["message"] = m.text();
  if (!m.origin.empty()) j["origin"] = m.origin;
  if (!m.file.empty()) j["reference"] = m.reference();
  return j;
}

std::string yamlScalar(const std::string& s) { return nlohmann::json(s).dump(); }

// Colour only for a terminal, and never when NO_COLOR is set or TERM is dumb (no-color.org).
bool useColor(bool wanted) {
  const char* noColor = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return wanted && ::isatty(1) != 0 && !(noColor && *noColor) && !(term && std::string_view(term) == "dumb");
}

void printLog(const std::vector<analysis::Message>& msgs, bool color) {
  for (const auto& m : msgs) {
    std::string level(analysis::levelName(m.type->level));
    if (color) {
      const char* c = m.type->level == analysis::Level::Error ? "\033[31m"
                      : m.type->level == analysis::Level::Warning ? "\033[33m"
                                                                  : "\033[36m";
      level = c + level + "\033[0m";
    }
    std::string where;
    if (!m.origin.empty()) where = m.reference().empty() ? fmt::format(" ({})", m.origin)
                                                         : fmt::format(" ({} {})", m.origin, m.reference());
    fmt::print("{} [{}]{} {}\n", level, m.type->code, where, m.text());
  }
}

int listAnalyzers() {
  fmt::print("Available analyzers:\n");
  for (const auto& a : analysis::allAnalyzers()) fmt::print("* {}:\n    {}\n", a->info().name, a->info().description);
  return kExitOk;
}

int runAnalyze(const AnalyzeOptions& opts) {
  if (opts.list) return listAnalyzers();
  for (const auto& name : opts.analyzers) {
    const auto& all = analysis::allAnalyzers();
    if (std::none_of(all.begin(), all.end(), [&](const auto& a) { return a->info().name == name; }))
      return reportError({ErrorCode::Usage, fmt::format("unknown analyzer {}", name), "list them with -L"});
  }
  std::vector<analysis::Suppression> suppressions;
  for (const auto& s : opts.suppress) {
    auto parsed = analysis::parseSuppression(s);
    if (!parsed)
      return reportError({ErrorCode::Usage, fmt::format("invalid suppression \"{}\"", s),
                          "use CODE=Kind name.namespace, e.g. IST0102=Namespace frod"});
    suppressions.push_back(*parsed);
  }

  nlohmann::json meshConfig = analysis::defaultMeshConfig();
  if (!opts.meshConfigFile.empty()) {
    auto loaded = analysis::loadMeshConfig(opts.meshConfigFile);
    if (!loaded) return reportError(loaded.error());
    meshConfig = std::move(*loaded);
  }
  if (!opts.istioNamespace.empty()) meshConfig["rootNamespace"] = opts.istioNamespace;
  nlohmann::json meshNetworks = nlohmann::json::object();
  if (!opts.meshNetworksFile.empty()) {
    auto loaded = analysis::loadMeshNetworks(opts.meshNetworksFile);
    if (!loaded) return reportError(loaded.error());
    meshNetworks = std::move(*loaded);
  }

  std::string selectedNs = opts.ns.empty() ? "default" : opts.ns;
  core::LoadOptions load;
  load.recursive = opts.recursive;
  load.defaultNamespace = opts.allNamespaces ? "" : selectedNs;
  core::LoadResult loaded;
  if (!opts.files.empty()) loaded = core::loadPaths(opts.files, load);
  // --ignore-unknown: documents that are not Kubernetes objects are skipped quietly.
  if (opts.ignoreUnknown) loaded.diagnostics.clear();
  for (const auto& d : loaded.diagnostics) fmt::print(stderr, "Error: {}\n", d.format());

  std::vector<core::Resource> resources = analysis::defaultIngressResources(meshConfig);
  for (auto& r : analysis::meshResources(meshConfig, meshNetworks)) resources.push_back(std::move(r));
  if (opts.useKube) {
    auto live = loadLiveConfig(opts.live);
    if (!live) return reportError(live.error());
    if (opts.verbose && !live->source.empty()) fmt::print(stderr, "Live config from {}\n", live->source);
    // Files stand for the change under review: they replace the live objects they name.
    std::set<core::ResourceKey> fromFiles;
    for (const auto& r : loaded.resources) fromFiles.insert(core::ResourceKey::of(r));
    for (auto& r : live->resources)
      if (!fromFiles.contains(core::ResourceKey::of(r)) && !kIgnoredNamespaces.contains(r.namespace_()))
        resources.push_back(std::move(r));
  }
  for (auto& r : loaded.resources)
    if (!kIgnoredNamespaces.contains(r.namespace_())) resources.push_back(std::move(r));
  analysis::Snapshot snapshot(std::move(resources), std::move(meshConfig), std::move(meshNetworks));

  analysis::RunOptions run;
  run.analyzers = opts.analyzers;
  run.suppressions = std::move(suppressions);
  analysis::RunResult result = analysis::runAnalyzers(snapshot, run);
  if (opts.verbose) {
    for (const auto& s : result.skipped) fmt::print(stderr, "Skipping analyzer {}\n", s);
    for (const auto& [name, ms] : result.ran) fmt::print(stderr, "Ran {} in {:.1f} ms\n", name, ms);
    fmt::print(stderr, "Ran {} analyzers over {} files\n", result.ran.size(), loaded.files);
  }

  analysis::Level outputLevel = levelFromName(opts.outputThreshold);
  std::vector<analysis::Message> shown;
  for (auto& m : result.messages) {
    if (m.type->level < outputLevel) continue;
    if (!opts.allNamespaces && !m.namespace_.empty() && m.namespace_ != selectedNs) continue;
    shown.push_back(std::move(m));
  }

  int loadFailed = loaded.diagnostics.empty() ? kExitOk : kExitBadData;
  if (opts.output == "json" || opts.output == "yaml") {
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    for (const auto& m : shown) array.push_back(toJson(m));
    if (opts.output == "json") {
      fmt::print("{}\n", array.dump(1, '\t'));
    } else if (array.empty()) {
      fmt::print("[]\n");
    } else {
      for (const auto& j : array) {
        bool first = true;
        for (const auto& [k, v] : j.items()) {
          fmt::print("{}{}: {}\n", first ? "- " : "  ", k, yamlScalar(v.get<std::string>()));
          first = false;
        }
      }
    }
    return loadFailed;
  }

  printLog(shown, useColor(opts.color));
  std::string scope = opts.allNamespaces ? "all namespaces" : fmt::format("namespace: {}", selectedNs);
  if (shown.empty() && !loadFailed)
    fmt::print(stderr, "\u2714 No validation issues found when analyzing {}.\n", scope);
  analysis::Level failLevel = levelFromName(opts.failureThreshold);
  bool failed = std::any_of(shown.begin(), shown.end(), [&](const auto& m) { return m.type->level >= failLevel; });
  if (loadFailed) return loadFailed;
  if (failed) {
    fmt::print(stderr, "Error: Analyzers found issues when analyzing {}.\n", scope);
    fmt::print(stderr, "See docs/analysis-messages.md for more information about causes and resolutions.\n");
    return kExitAnalyzeIssues;
  }
  return kExitOk;
}

}  // namespace

void addAnalyzeCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("analyze", "Analyzes Istio configuration and prints validation messages");
  auto opts = std::make_shared<AnalyzeOptions>();
  cmd->add_option("files", opts->files, "Files or directories to analyze, - for stdin")->type_name("PATH");
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories recursively");
  cmd->add_option("--use-kube", opts->useKube,
                  "Also analyze the live config: the cluster if one is configured, else the local mesh (false: files only)")
      ->default_str("true");
  cmd->add_flag("--local", opts->live.local, "With --use-kube: the local mesh even when a cluster is configured");
  cmd->add_option("--kubeconfig", opts->live.kubeconfig, "kubeconfig file for --use-kube");
  cmd->add_option("--context", opts->live.context, "kubeconfig context for --use-kube");
  cmd->add_flag("-A,--all-namespaces", opts->allNamespaces, "Analyze all namespaces");
  cmd->add_option("-n,--namespace", opts->ns, "Namespace for objects without one, and to report on");
  cmd->add_option("--analyzer", opts->analyzers, "Run only this analyzer (repeatable; see -L)")->allow_extra_args(false);
  cmd->add_flag("-L,--list-analyzers", opts->list, "List the analyzers");
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format"), {"log", "json", "yaml"});
  cmd->add_option("--meshConfigFile", opts->meshConfigFile, "MeshConfig YAML to use instead of the defaults")
      ->type_name("PATH");
  cmd->add_option("--meshNetworksFile", opts->meshNetworksFile, "MeshNetworks YAML")->type_name("PATH");
  cmd->add_option("-S,--suppress", opts->suppress, "Suppress messages: CODE=Kind name.namespace (repeatable)")
      ->allow_extra_args(false);
  withChoices(cmd->add_option("--failure-threshold", opts->failureThreshold, "Lowest level that fails the run"),
              {"Info", "Warning", "Error"});
  withChoices(cmd->add_option("--output-threshold", opts->outputThreshold, "Lowest level printed"),
              {"Info", "Warning", "Error"});
  cmd->add_flag("-v,--verbose", opts->verbose, "Say which analyzers ran or were skipped, and their time");
  cmd->add_option("-i,--istioNamespace", opts->istioNamespace, "Istio system namespace (default istio-system)");
  cmd->add_option("--color", opts->color, "Colour log output on a terminal (off with =false, NO_COLOR or TERM=dumb)")
      ->default_str("true");
  cmd->add_flag("--ignore-unknown", opts->ignoreUnknown, "Skip documents that are not Kubernetes objects");
  cmd->callback([opts, &state] { state.exitCode = runAnalyze(*opts); });
}

}  // namespace mesh::cli
