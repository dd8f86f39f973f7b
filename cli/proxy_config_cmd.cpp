// meshctl proxy-config cluster|listener|route|endpoint|secret|bootstrap|ecds|eds|log|all:
// istioctl's proxy-config over one proxy's config, read from its admin endpoint (--admin), from
// meshd (PROXY: what meshd sends that connected proxy) or from a saved dump (--file); endpoint
// reads a /clusters?format=json answer. Output shapes, filters and errors follow istioctl; the
// sources and writers live in cli/proxy_config/.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>
#include <ctime>

#include "local/readiness.h"

#include "cli/proxy_config/bootstrap_writer.h"
#include "cli/proxy_config/cluster_writer.h"
#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/ecds_writer.h"
#include "cli/proxy_config/eds_writer.h"
#include "cli/proxy_config/endpoint_writer.h"
#include "cli/proxy_config/full_summary.h"
#include "cli/proxy_config/json_value.h"
#include "cli/proxy_config/k8s_yaml.h"
#include "cli/proxy_config/listener_writer.h"
#include "cli/proxy_config/live_sources.h"
#include "cli/proxy_config/route_writer.h"
#include "cli/proxy_config/secret_writer.h"

namespace mesh::cli {
namespace {

using namespace mesh::cli::pc;

struct PcOptions {
  std::string proxy;
  std::string file;
  std::string admin;
  MeshdFlags meshd;
  std::string output = "short";
  // cluster
  std::string fqdn, subset, direction;
  int port = 0;
  // listener
  std::string address, type;
  bool verbose = true;
  // route
  std::string name;
  // endpoint / eds
  std::string cluster, status;
  // all
  bool withHeaders = false;
  // log
  std::string level;
  bool reset = false;
};

OutputFormat formatOf(const std::string& output) {
  return output == "json" ? OutputFormat::Json : output == "yaml" ? OutputFormat::Yaml : OutputFormat::Short;
}

void print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int printResult(const Result<std::string>& text) {
  if (!text) return reportError(text.error());
  print(*text);
  return kExitOk;
}

Result<std::unique_ptr<DumpSource>> openSource(const std::string& command, const PcOptions& o) {
  return openProxySource({command, o.proxy, o.file, o.admin, o.meshd});
}

Result<ConfigDumpView> loadView(const std::string& command, const PcOptions& o, AdminResource resource) {
  auto source = openSource(command, o);
  if (!source) return Failure(source.error());
  auto dump = loadConfigDump(**source, resource);
  if (!dump) return Failure(dump.error());
  return ConfigDumpView(std::move(*dump));
}

ClusterFilter clusterFilter(const PcOptions& o) { return {o.fqdn, o.port, o.subset, o.direction}; }
ListenerFilter listenerFilter(const PcOptions& o) {
  return {o.address, static_cast<uint32_t>(o.port), o.type, o.verbose};
}
RouteFilter routeFilter(const PcOptions& o) { return {o.name, o.verbose}; }
EndpointFilter endpointFilter(const PcOptions& o) {
  return {o.address, static_cast<uint32_t>(o.port), o.cluster, o.status};
}

int runCluster(const PcOptions& o) {
  auto view = loadView("cluster", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? clusterSummary(*view, clusterFilter(o), false)
                                              : clusterDump(*view, clusterFilter(o), f));
}

int runListener(const PcOptions& o) {
  auto view = loadView("listener", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? listenerSummary(*view, listenerFilter(o), false)
                                              : listenerDump(*view, listenerFilter(o), f));
}

int runRoute(const PcOptions& o) {
  auto view = loadView("route", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? routeSummary(*view, routeFilter(o), false)
                                              : routeDump(*view, routeFilter(o), f));
}

int runEndpoint(const PcOptions& o) {
  auto source = openSource("endpoints", o);
  if (!source) return reportError(source.error());
  auto json = (*source)->fetch(AdminResource::Clusters);
  if (!json) return reportError(json.error());
  auto clusters = parseClusters(*json);
  if (!clusters) return reportError(clusters.error());
  ClustersEndpointFilter filter{o.address, static_cast<uint32_t>(o.port), o.cluster, o.status};
  OutputFormat f = formatOf(o.output);
  print(f == OutputFormat::Short ? endpointSummary(**clusters, filter) : endpointDump(**clusters, filter, f));
  return kExitOk;
}

int runEds(const PcOptions& o) {
  auto view = loadView("eds", o, AdminResource::ConfigDumpWithEds);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? edsSummary(*view, endpointFilter(o), false)
                                              : edsDump(*view, endpointFilter(o), f));
}

int runSecret(const PcOptions& o) {
  auto view = loadView("secret", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? secretSummary(*view, false, std::time(nullptr)) : secretDump(*view, f));
}

int runBootstrap(const PcOptions& o) {
  auto view = loadView("bootstrap", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? bootstrapSummary(*view) : bootstrapDump(*view, f));
}

int runEcds(const PcOptions& o) {
  auto view = loadView("ecds", o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? ecdsSummary(*view) : ecdsDump(*view, f));
}

int runAll(const PcOptions& o) {
  OutputFormat f = formatOf(o.output);
  if (f != OutputFormat::Short) {
    // istioctl prints the dump itself, converted to YAML if asked.
    auto source = openSource("all", o);
    if (!source) return reportError(source.error());
    auto raw = (*source)->fetch(AdminResource::ConfigDumpWithEds);
    if (!raw) return reportError(raw.error());
    if (f == OutputFormat::Json) {
      print(*raw + "\n");
      return kExitOk;
    }
    auto doc = parseJson(*raw);
    if (!doc)
      return reportError(
          {ErrorCode::InvalidInput, fmt::format("{}: {}", (*source)->describe(), doc.error().message), ""});
    print(toK8sYaml(*doc) + "\n");
    return kExitOk;
  }
  auto view = loadView("all", o, AdminResource::ConfigDumpWithEds);
  if (!view) return reportError(view.error());
  FullSummaryOptions options{clusterFilter(o),  listenerFilter(o), routeFilter(o),
                             endpointFilter(o), o.withHeaders,     std::time(nullptr)};
  std::string printed;
  auto text = fullSummary(*view, options, printed);
  if (!text) {
    print(printed);
    return reportError(text.error());
  }
  print(*text);
  return kExitOk;
}

std::vector<std::string> splitLevels(const std::string& levels) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= levels.size() && !levels.empty()) {
    size_t comma = levels.find(',', start);
    std::string part = levels.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Logging levels live in the running proxy only: its admin endpoint's /logging.
int runLog(const PcOptions& o) {
  if (!o.file.empty())
    return reportError({ErrorCode::Usage,
                        "log reads and sets the logging levels of a running proxy, not of a --file dump",
                        "run it against the proxy's admin endpoint: meshctl proxy-config log --admin http://HOST:15000"});
  if (o.admin.empty())
    return reportError({ErrorCode::Usage, "log needs the proxy's admin endpoint",
                        "meshd does not know a proxy's logging levels: pass --admin http://HOST:15000"});
  auto base = normalizeAdminUrl(o.admin);
  if (!base) return reportError(base.error());
  std::vector<std::string> queries;
  if (o.reset) queries.push_back("level=warning");  // istioctl's --reset: every logger back to warning
  for (const std::string& part : splitLevels(o.level)) {
    auto colon = part.find(':');
    queries.push_back(colon == std::string::npos ? "level=" + part : part.substr(0, colon) + "=" + part.substr(colon + 1));
  }
  if (queries.empty()) queries.push_back("");
  std::string text;
  for (const std::string& q : queries) {
    std::string url = *base + "/logging" + (q.empty() ? "" : "?" + q);
    auto reply = q.empty() ? local::httpGet(url, std::chrono::seconds(10)) : local::httpPost(url, std::chrono::seconds(10));
    if (!reply) return reportError({ErrorCode::Unavailable, reply.error().message, ""});
    if (reply->status != 200)
      return reportError(
          {ErrorCode::InvalidInput, fmt::format("{}: HTTP {}: {}", url, reply->status, reply->body.substr(0, 300)), ""});
    text = reply->body;
  }
  print(text);
  return kExitOk;
}

void addSourceFlags(CLI::App* cmd, PcOptions& o) {
  cmd->add_option("proxy", o.proxy, "Pod name[.namespace] or node id of a proxy connected to meshd");
  cmd->add_option("-f,--file", o.file, "Envoy config dump JSON file ('-' for stdin)")->type_name("PATH");
  cmd->add_option("--admin", o.admin, "The proxy's admin endpoint, e.g. http://127.0.0.1:15000")->type_name("URL");
  addMeshdFlags(cmd, o.meshd);
}

using Runner = int (*)(const PcOptions&);

CLI::App* addKind(CLI::App& parent, RunState& state, const std::string& name, const std::string& description,
                  Runner run, std::shared_ptr<PcOptions> opts, const std::string& defaultOutput = "short") {
  auto* cmd = parent.add_subcommand(name, description);
  opts->output = defaultOutput;
  addSourceFlags(cmd, *opts);
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format")->default_str(defaultOutput),
              {"json", "yaml", "short"});
  cmd->callback([opts, run, &state] { state.exitCode = run(*opts); });
  return cmd;
}

void addClusterFilters(CLI::App* cmd, PcOptions& o) {
  cmd->add_option("--fqdn", o.fqdn, "Filter clusters by substring of Service FQDN field");
  cmd->add_option("--direction", o.direction, "Filter clusters by Direction field");
  cmd->add_option("--subset", o.subset, "Filter clusters by substring of Subset field");
}

void addListenerFilters(CLI::App* cmd, PcOptions& o) {
  cmd->add_option("--address", o.address, "Filter listeners by address field");
  cmd->add_option("--type", o.type, "Filter listeners by type field");
}

void addEndpointFilters(CLI::App* cmd, PcOptions& o) {
  cmd->add_option("--address", o.address, "Filter endpoints by address field");
  cmd->add_option("--port", o.port, "Filter endpoints by Port field");
  cmd->add_option("--cluster", o.cluster, "Filter endpoints by cluster name field");
  cmd->add_option("--status", o.status, "Filter endpoints by status field");
}

}  // namespace

void addProxyConfigCommand(CLI::App& app, RunState& state) {
  auto* pc = app.add_subcommand("proxy-config", "Retrieves information about proxy configuration from the Envoy instance");
  pc->alias("pc");
  pc->require_subcommand(1);

  auto o = std::make_shared<PcOptions>();
  auto* cluster = addKind(*pc, state, "cluster", "Retrieves cluster configuration of the Envoy", runCluster, o);
  cluster->alias("clusters");
  addClusterFilters(cluster, *o);
  cluster->add_option("--port", o->port, "Filter clusters by Port field");

  o = std::make_shared<PcOptions>();
  auto* listener = addKind(*pc, state, "listener", "Retrieves listener configuration of the Envoy", runListener, o);
  listener->alias("listeners");
  addListenerFilters(listener, *o);
  listener->add_option("--port", o->port, "Filter listeners by Port field");
  listener->add_flag("--verbose{true}", o->verbose, "Output more information (--verbose=false for less)");

  o = std::make_shared<PcOptions>();
  auto* route = addKind(*pc, state, "route", "Retrieves route configuration of the Envoy", runRoute, o);
  route->alias("routes");
  route->add_option("--name", o->name, "Filter routes by route name field");
  route->add_flag("--verbose{true}", o->verbose, "Output more information (--verbose=false for less)");

  o = std::make_shared<PcOptions>();
  auto* endpoint = addKind(*pc, state, "endpoint",
                           "Retrieves endpoints of the Envoy from its /clusters?format=json answer", runEndpoint, o);
  endpoint->alias("endpoints");
  addEndpointFilters(endpoint, *o);

  o = std::make_shared<PcOptions>();
  auto* eds =
      addKind(*pc, state, "eds", "Retrieves endpoints from a config dump taken with include_eds=true", runEds, o);
  addEndpointFilters(eds, *o);

  o = std::make_shared<PcOptions>();
  addKind(*pc, state, "secret", "Retrieves secret configuration of the Envoy", runSecret, o)->alias("secrets");

  o = std::make_shared<PcOptions>();
  addKind(*pc, state, "bootstrap", "Retrieves bootstrap configuration of the Envoy", runBootstrap, o, "json");

  o = std::make_shared<PcOptions>();
  addKind(*pc, state, "ecds", "Retrieves typed extension configuration (ECDS) of the Envoy", runEcds, o);

  o = std::make_shared<PcOptions>();
  auto* all = addKind(*pc, state, "all", "Retrieves all configuration of the Envoy", runAll, o);
  addClusterFilters(all, *o);
  all->add_option("--port", o->port, "Filter clusters, listeners and endpoints by Port field");
  addListenerFilters(all, *o);
  all->add_option("--name", o->name, "Filter routes by route name field");
  all->add_flag("--verbose{true}", o->verbose, "Output more information (--verbose=false for less)");
  all->add_flag("--with-headers", o->withHeaders, "Print a banner over each section");

  o = std::make_shared<PcOptions>();
  auto* log = pc->add_subcommand("log", "Retrieves or sets the logging levels of a running proxy");
  log->add_option("proxy", o->proxy, "Pod name[.namespace] of the proxy");
  log->add_option("-f,--file", o->file, "Not supported: logging levels exist only in a running proxy")
      ->type_name("PATH");
  log->add_option("--admin", o->admin, "The proxy's admin endpoint, e.g. http://127.0.0.1:15000")->type_name("URL");
  log->add_option("--level", o->level,
                  "Comma-separated minimum per-logger level of messages to output, in the form of "
                  "[<logger>:]<level>,[<logger>:]<level>,...");
  log->add_flag("-r,--reset", o->reset, "Reset levels to default value (warning)");
  log->callback([o, &state] { state.exitCode = runLog(*o); });
}

}  // namespace mesh::cli

