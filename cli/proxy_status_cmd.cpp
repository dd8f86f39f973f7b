// meshctl proxy-status [PROXY]: istioctl's proxy-status. Without PROXY, each proxy's xDS sync
// state, from meshd's debug API (or istiod's saved syncz answers, --syncz-file). With PROXY (or
// --istiod-file), the Clusters/Listeners/Routes diff of what the control plane would send
// against what the proxy runs: meshd's config dump for PROXY, or --istiod-file, against the
// proxy's admin endpoint (--admin) or its saved dump (--file).
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>

#include "cli/meshd_client.h"
#include "cli/proxy_config/config_compare.h"
#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/live_sources.h"
#include "cli/proxy_config/meshd_syncz.h"
#include "cli/proxy_config/sync_status.h"

namespace mesh::cli {
namespace {

struct PsOptions {
  std::string proxy;
  std::string synczFile;
  std::string envoyFile;
  std::string istiodFile;
  std::string admin;
  MeshdFlags meshd;
  std::string output = "table";
  int verbosity = 0;
  std::string ns;
};

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

// What the proxy runs: its admin endpoint or a saved dump.
Result<std::unique_ptr<pc::DumpSource>> proxySide(const PsOptions& o) {
  if (!o.admin.empty() && !o.envoyFile.empty()) return fail(ErrorCode::Usage, "give either --admin or --file, not both");
  if (!o.envoyFile.empty()) return std::unique_ptr<pc::DumpSource>(std::make_unique<pc::FileDumpSource>(o.envoyFile));
  if (o.admin.empty())
    return fail(ErrorCode::Usage, "comparing configs needs what the proxy runs",
                "pass its admin endpoint (--admin http://HOST:15000) or a saved config dump (--file)");
  auto url = pc::normalizeAdminUrl(o.admin);
  if (!url) return Failure(url.error());
  return std::unique_ptr<pc::DumpSource>(std::make_unique<pc::AdminDumpSource>(*url));
}

// What the control plane would send: a saved istiod dump, or meshd's for PROXY.
Result<std::unique_ptr<pc::DumpSource>> controlPlaneSide(const PsOptions& o) {
  if (!o.istiodFile.empty())
    return std::unique_ptr<pc::DumpSource>(std::make_unique<pc::FileDumpSource>(o.istiodFile));
  if (o.proxy.empty())
    return fail(ErrorCode::Usage, "comparing configs needs the proxy's name (to ask meshd) or --istiod-file");
  auto client = MeshdClient::open(o.meshd);
  if (!client) return Failure(client.error());
  return std::unique_ptr<pc::DumpSource>(std::make_unique<pc::MeshdDumpSource>(std::move(*client), o.proxy));
}

int runCompare(const PsOptions& o) {
  auto envoySource = proxySide(o);
  if (!envoySource) return reportError(envoySource.error());
  auto istiodSource = controlPlaneSide(o);
  if (!istiodSource) return reportError(istiodSource.error());
  auto istiod = pc::loadConfigDump(**istiodSource, pc::AdminResource::ConfigDump);
  if (!istiod) return reportError(istiod.error());
  auto envoy = pc::loadConfigDump(**envoySource, pc::AdminResource::ConfigDump);
  if (!envoy) return reportError(envoy.error());
  print(pc::compareConfigs(pc::ConfigDumpView(std::move(*istiod)), pc::ConfigDumpView(std::move(*envoy))));
  return kExitOk;
}

int runStatus(const PsOptions& o) {
  bool comparing = !o.envoyFile.empty() || !o.istiodFile.empty() || !o.admin.empty();
  if (comparing || (!o.proxy.empty() && o.synczFile.empty())) return runCompare(o);
  pc::SynczResponses responses;
  if (!o.synczFile.empty()) {
    pc::FileSynczSource source(o.synczFile);
    auto fetched = source.fetch();
    if (!fetched) return reportError(fetched.error());
    responses = std::move(*fetched);
  } else {
    auto client = MeshdClient::open(o.meshd);
    if (!client) return reportError(client.error());
    auto proxies = client->listProxies();
    if (!proxies) return reportError(proxies.error());
    responses = pc::synczFromMeshd(*proxies);
  }
  pc::SyncStatusOptions options;
  options.format = o.output == "json"   ? pc::OutputFormat::Json
                   : o.output == "yaml" ? pc::OutputFormat::Yaml
                                        : pc::OutputFormat::Short;
  options.verbosity = o.verbosity;
  options.ns = o.ns;
  options.proxy = o.proxy;
  print(pc::syncStatus(responses, options));
  return kExitOk;
}

}  // namespace

void addProxyStatusCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("proxy-status", "Retrieves the synchronization status of each proxy in the mesh");
  cmd->alias("ps");
  auto opts = std::make_shared<PsOptions>();
  cmd->add_option("proxy", opts->proxy,
                  "A proxy's name[.namespace] or node id: compare what meshd sends it with what it runs");
  cmd->add_option("--syncz-file", opts->synczFile,
                  "istiod syncz answers: a JSON object of istiod name -> DiscoveryResponse")
      ->type_name("PATH");
  cmd->add_option("-f,--file", opts->envoyFile, "Envoy config dump JSON file to compare")->type_name("PATH");
  cmd->add_option("--admin", opts->admin, "The proxy's admin endpoint to compare, e.g. http://127.0.0.1:15000")
      ->type_name("URL");
  cmd->add_option("--istiod-file", opts->istiodFile, "istiod's config dump for the same proxy")->type_name("PATH");
  addMeshdFlags(cmd, opts->meshd);
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format")->default_str("table"),
              {"table", "json", "yaml"});
  cmd->add_option("--verbosity", opts->verbosity, "Show one column per xDS type when 1 or more")->default_str("0");
  cmd->add_option("-n,--namespace", opts->ns, "Show only proxies of this namespace");
  cmd->callback([opts, &state] { state.exitCode = runStatus(*opts); });
}

}  // namespace mesh::cli
