// meshctl proxy-config cluster|listener|route|endpoint|secret|bootstrap|ecds|eds|log|all
// [PROXY] --file F: istioctl's proxy-config over a saved Envoy config dump (endpoint reads a
// /clusters?format=json answer). Output shapes, filters and errors follow istioctl; the
// writers live in cli/proxy_config/. Reading a live proxy (PROXY) comes with the admin and
// meshd sources.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>
#include <ctime>

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
#include "cli/proxy_config/route_writer.h"
#include "cli/proxy_config/secret_writer.h"

namespace mesh::cli {
namespace {

using namespace mesh::cli::pc;

struct PcOptions {
  std::string proxy;
  std::string file;
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

// istioctl needs exactly one of a pod name and --file.
std::optional<int> checkSource(const std::string& command, const PcOptions& o) {
  if (o.proxy.empty() == o.file.empty())
    return reportError({ErrorCode::Usage, fmt::format("{} requires pod name or --file parameter", command), ""});
  if (!o.proxy.empty())
    return reportError({ErrorCode::Usage, "reading a live proxy is not supported yet",
                        "save the proxy's /config_dump and pass it with --file"});
  return std::nullopt;
}

Result<ConfigDumpView> loadView(const PcOptions& o, AdminResource resource) {
  FileDumpSource source(o.file);
  auto dump = loadConfigDump(source, resource);
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
  if (auto bad = checkSource("cluster", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? clusterSummary(*view, clusterFilter(o), false)
                                              : clusterDump(*view, clusterFilter(o), f));
}

int runListener(const PcOptions& o) {
  if (auto bad = checkSource("listener", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? listenerSummary(*view, listenerFilter(o), false)
                                              : listenerDump(*view, listenerFilter(o), f));
}

int runRoute(const PcOptions& o) {
  if (auto bad = checkSource("route", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? routeSummary(*view, routeFilter(o), false)
                                              : routeDump(*view, routeFilter(o), f));
}

int runEndpoint(const PcOptions& o) {
  if (auto bad = checkSource("endpoints", o)) return *bad;
  FileDumpSource source(o.file);
  auto json = source.fetch(AdminResource::Clusters);
  if (!json) return reportError(json.error());
  auto clusters = parseClusters(*json);
  if (!clusters) return reportError(clusters.error());
  ClustersEndpointFilter filter{o.address, static_cast<uint32_t>(o.port), o.cluster, o.status};
  OutputFormat f = formatOf(o.output);
  print(f == OutputFormat::Short ? endpointSummary(**clusters, filter) : endpointDump(**clusters, filter, f));
  return kExitOk;
}

int runEds(const PcOptions& o) {
  if (auto bad = checkSource("eds", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDumpWithEds);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? edsSummary(*view, endpointFilter(o), false)
                                              : edsDump(*view, endpointFilter(o), f));
}

int runSecret(const PcOptions& o) {
  if (auto bad = checkSource("secret", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? secretSummary(*view, false, std::time(nullptr)) : secretDump(*view, f));
}

int runBootstrap(const PcOptions& o) {
  if (auto bad = checkSource("bootstrap", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? bootstrapSummary(*view) : bootstrapDump(*view, f));
}

int runEcds(const PcOptions& o) {
  if (auto bad = checkSource("ecds", o)) return *bad;
  auto view = loadView(o, AdminResource::ConfigDump);
  if (!view) return reportError(view.error());
  OutputFormat f = formatOf(o.output);
  return printResult(f == OutputFormat::Short ? ecdsSummary(*view) : ecdsDump(*view, f));
}

int runAll(const PcOptions& o) {
  if (auto bad = checkSource("all", o)) return *bad;
  OutputFormat f = formatOf(o.output);
  if (f != OutputFormat::Short) {
    // istioctl prints the dump itself, converted to YAML if asked.
    FileDumpSource source(o.file);
    auto raw = source.fetch(AdminResource::ConfigDumpWithEds);
    if (!raw) return reportError(raw.error());
    if (f == OutputFormat::Json) {
      print(*raw + "\n");
      return kExitOk;
    }
    auto doc = parseJson(*raw);
    if (!doc) return reportError({ErrorCode::InvalidInput, fmt::format("{}: {}", o.file, doc.error().message), ""});
    print(toK8sYaml(*doc) + "\n");
    return kExitOk;
  }
  auto view = loadView(o, AdminResource::ConfigDumpWithEds);
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

int runLog(const PcOptions& o) {
  if (!o.file.empty())
    return reportError({ErrorCode::Usage,
                        "log reads and sets the logging levels of a running proxy, not of a --file dump",
                        "run it against a live proxy: meshctl proxy-config log <pod-name[.namespace]>"});
  if (o.proxy.empty()) return reportError({ErrorCode::Usage, "log requires pod name or --selector", ""});
  return reportError({ErrorCode::Usage, "reading a live proxy is not supported yet", ""});
}

using Runner = int (*)(const PcOptions&);

CLI::App* addKind(CLI::App& parent, RunState& state, const std::string& name, const std::string& description,
                  Runner run, std::shared_ptr<PcOptions> opts, const std::string& defaultOutput = "short") {
  auto* cmd = parent.add_subcommand(name, description);
  opts->output = defaultOutput;
  cmd->add_option("proxy", opts->proxy, "Pod name[.namespace] of the proxy (live proxies: not supported yet)");
  cmd->add_option("-f,--file", opts->file, "Envoy config dump JSON file ('-' for stdin)")->type_name("PATH");
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
  auto* pc = app.add_subcommand("proxy-config", "Retrieves information about proxy configuration from an Envoy dump");
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
  auto* log = pc->add_subcommand("log", "Retrieves or sets the logging levels of a running Envoy");
  log->add_option("proxy", o->proxy, "Pod name[.namespace] of the proxy");
  log->add_option("-f,--file", o->file, "Not supported: logging levels exist only in a running proxy")
      ->type_name("PATH");
  log->callback([o, &state] { state.exitCode = runLog(*o); });
}

}  // namespace mesh::cli

