// meshctl proxy-status: istioctl's proxy-status over saved answers. --syncz-file holds istiod's
// istio.io/debug/syncz DiscoveryResponses (a JSON object: istiod name -> response) and prints
// the sync table or the responses; --file ENVOY --istiod-file ISTIOD compares what a proxy runs
// with what istiod would send it. Talking to istiod itself comes with the meshd debug source.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>

#include "cli/proxy_config/config_compare.h"
#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/sync_status.h"

namespace mesh::cli {
namespace {

struct PsOptions {
  std::string proxy;
  std::string synczFile;
  std::string envoyFile;
  std::string istiodFile;
  std::string output = "table";
  int verbosity = 0;
  std::string ns;
};

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int runCompare(const PsOptions& o) {
  if (o.envoyFile.empty() || o.istiodFile.empty())
    return reportError(
        {ErrorCode::Usage, "comparing configs needs both --file (Envoy's config dump) and --istiod-file", ""});
  pc::FileDumpSource envoySource(o.envoyFile), istiodSource(o.istiodFile);
  auto envoy = pc::loadConfigDump(envoySource, pc::AdminResource::ConfigDump);
  if (!envoy) return reportError(envoy.error());
  auto istiod = pc::loadConfigDump(istiodSource, pc::AdminResource::ConfigDump);
  if (!istiod) return reportError(istiod.error());
  print(pc::compareConfigs(pc::ConfigDumpView(std::move(*istiod)), pc::ConfigDumpView(std::move(*envoy))));
  return kExitOk;
}

int runStatus(const PsOptions& o) {
  if (!o.envoyFile.empty() || !o.istiodFile.empty()) return runCompare(o);
  if (o.synczFile.empty())
    return reportError(
        {ErrorCode::Usage, "talking to istiod is not supported yet",
         "pass istiod's syncz answers with --syncz-file, or compare dumps with --file and --istiod-file"});
  pc::FileSynczSource source(o.synczFile);
  auto responses = source.fetch();
  if (!responses) return reportError(responses.error());
  pc::SyncStatusOptions options;
  options.format = o.output == "json"   ? pc::OutputFormat::Json
                   : o.output == "yaml" ? pc::OutputFormat::Yaml
                                        : pc::OutputFormat::Short;
  options.verbosity = o.verbosity;
  options.ns = o.ns;
  options.proxy = o.proxy;
  print(pc::syncStatus(*responses, options));
  return kExitOk;
}

}  // namespace

void addProxyStatusCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("proxy-status", "Retrieves the synchronization status of each proxy in the mesh");
  cmd->alias("ps");
  auto opts = std::make_shared<PsOptions>();
  cmd->add_option("proxy", opts->proxy, "Show only proxies whose ID contains this");
  cmd->add_option("--syncz-file", opts->synczFile,
                  "istiod syncz answers: a JSON object of istiod name -> DiscoveryResponse")
      ->type_name("PATH");
  cmd->add_option("-f,--file", opts->envoyFile, "Envoy config dump JSON file to compare with --istiod-file")
      ->type_name("PATH");
  cmd->add_option("--istiod-file", opts->istiodFile, "istiod's config dump for the same proxy")->type_name("PATH");
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format")->default_str("table"),
              {"table", "json", "yaml"});
  cmd->add_option("--verbosity", opts->verbosity, "Show one column per xDS type when 1 or more")->default_str("0");
  cmd->add_option("-n,--namespace", opts->ns, "Show only proxies of this namespace");
  cmd->callback([opts, &state] { state.exitCode = runStatus(*opts); });
}

}  // namespace mesh::cli

