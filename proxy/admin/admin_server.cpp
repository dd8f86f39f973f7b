#include "proxy/admin/admin_server.h"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "core/log.h"
#include "core/version.h"
#include "proxy/admin/admin_stats.h"

namespace mesh::proxy::admin {
namespace {

using monitoring::HttpRequest;
using monitoring::HttpResponse;
using nlohmann::json;

constexpr const char* kJson = "application/json";

// "a=b&c=%2Fx" → {a: b, c: /x}; '+' is a space, as in HTML forms and Envoy's admin.
std::map<std::string, std::string, std::less<>> parseQuery(std::string_view q) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') out += ' ';
      else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string, std::less<>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty())
      out.insert_or_assign(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  return out;
}

std::string param(const std::map<std::string, std::string, std::less<>>& params, std::string_view key) {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::vector<std::string> splitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    if (auto part = s.substr(0, comma); !part.empty()) out.emplace_back(part);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return out;
}

std::string_view levelName() {
  if (log::enabled(log::Level::Debug)) return "debug";
  if (log::enabled(log::Level::Info)) return "info";
  if (log::enabled(log::Level::Warn)) return "warning";
  return "error";
}

// The log scopes meshproxy writes under; all share the one process level.
constexpr std::string_view kLoggers[] = {"admin", "main", "xds"};

std::string loggersText() {
  std::string out = "active loggers:\n";
  for (std::string_view l : kLoggers) out += fmt::format("  {}: {}\n", l, levelName());
  return out;
}

constexpr std::string_view kStateNames[] = {"LIVE", "DRAINING", "PRE_INITIALIZING", "INITIALIZING"};

}  // namespace

Result<void> checkAdminAddress(std::string_view address, bool allowRemote) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos)
    return fail(ErrorCode::Usage, fmt::format("admin address {:?} is not HOST:PORT", address));
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  bool loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
  if (loopback || allowRemote) return {};
  return fail(ErrorCode::Usage,
              fmt::format("admin address {:?} is not a loopback address: the admin endpoint shows all config and "
                          "can stop the proxy",
                          address),
              "use 127.0.0.1:PORT, or pass --admin-allow-remote to serve it anyway");
}

AdminServer::AdminServer(AdminSources sources, AdminOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {
  addAdminRoutes();
  addStatusRoutes();
  (void)prometheusRoutes_.add("/stats/prometheus", [this](const HttpRequest&) { return prometheusStats(); });
}

AdminServer::~AdminServer() { stop(); }

int AdminServer::serverState(const XdsStats& stats) const {
  if (draining_) return 1;
  if (stats.initialized) return 0;
  bool anyConfig = false;
  for (const auto& [type, ts] : stats.types) anyConfig |= ts.updateSuccess > 0;
  return anyConfig ? 3 : 2;
}

void AdminServer::addAdminRoutes() {
  auto& r = adminRoutes_;
  auto bootstrap = [this] {
    BootstrapInfo info = sources_.bootstrap;
    info.delta = sources_.stats().streamKind != "sotw";
    return info;
  };
  (void)r.add("/", [](const HttpRequest&) {
    return HttpResponse::text(200,
                              "admin commands are:\n"
                              "  /: this list\n"
                              "  /clusters: upstream cluster status (?format=json)\n"
                              "  /config_dump: dump current Envoy configs (?include_eds, ?resource=, ?mask=)\n"
                              "  /healthz: 200 while the proxy is serving and not draining\n"
                              "  /logging: show log levels; POST ?level=LEVEL sets them\n"
                              "  /quitquitquit: POST: exit the server gracefully\n"
                              "  /ready: print server state, 200 only when LIVE\n"
                              "  /server_info: print server version and status\n"
                              "  /stats: print server stats (?format=json, ?filter=REGEX)\n"
                              "  /stats/prometheus: print server stats in prometheus format\n");
  });
  (void)r.add("/config_dump", [this, bootstrap](const HttpRequest& req) {
    auto params = parseQuery(req.query);
    ConfigDumpQuery q;
    if (auto it = params.find("include_eds"); it != params.end()) q.includeEds = it->second != "false";
    q.resource = param(params, "resource");
    q.mask = splitComma(param(params, "mask"));
    auto body = configDumpJson(sources_.view(), bootstrap(), q,
                               sources_.agentSecrets ? sources_.agentSecrets() : std::vector<DumpedSecret>{});
    if (!body)
      return HttpResponse::text(body.error().code == ErrorCode::NotFound ? 404
                                : body.error().code == ErrorCode::Usage ? 400
                                                                         : 500,
                                body.error().message + "\n");
    return HttpResponse{200, kJson, std::move(*body) + "\n", {}};
  });
  (void)r.add("/clusters", [this](const HttpRequest& req) {
    auto params = parseQuery(req.query);
    EjectedHosts ejected = sources_.ejectedHosts ? sources_.ejectedHosts() : EjectedHosts{};
    if (param(params, "format") == "json")
      return HttpResponse{200, kJson, clustersJson(sources_.view(), sources_.bootstrap.xdsAddress, ejected), {}};
    return HttpResponse::text(200, clustersText(sources_.view(), sources_.bootstrap.xdsAddress, ejected));
  });
  auto serverStats = [this] { return collectStats(); };
  (void)r.add("/stats", [serverStats](const HttpRequest& req) {
    auto params = parseQuery(req.query);
    std::string filter = param(params, "filter");
    if (!filter.empty()) {
      RE2::Options options;
      options.set_log_errors(false);
      if (RE2 re(filter, options); !re.ok())
        return HttpResponse::text(400, fmt::format("invalid regex {:?}: {}\n", filter, re.error()));
    }
    std::string format = param(params, "format");
    if (format == "json") return HttpResponse{200, kJson, statsJson(serverStats(), filter), {}};
    if (format == "prometheus") return HttpResponse::text(200, statsPrometheus(serverStats()));
    if (!format.empty()) return HttpResponse::text(400, fmt::format("unknown format {:?}: use json or prometheus\n", format));
    return HttpResponse::text(200, statsText(serverStats(), filter));
  });
  (void)r.add("/stats/prometheus", [this](const HttpRequest&) { return prometheusStats(); });
  (void)r.add("/ready", [this](const HttpRequest&) {
    int state = serverState(sources_.stats());
    return HttpResponse::text(state == 0 ? 200 : 503, fmt::format("{}\n", kStateNames[state]));
  });
  (void)r.add("/healthz", [this](const HttpRequest&) {
    return draining_ ? HttpResponse::text(503, "DRAINING\n") : HttpResponse::text(200, "OK\n");
  });
  (void)r.add(
      "/logging",
      [](const HttpRequest& req) {
        auto params = parseQuery(req.query);
        if (req.method == "GET" || params.empty()) return HttpResponse::text(200, loggersText());
        if (params.size() != 1 || !params.contains("level"))
          return HttpResponse::text(400, "usage: POST /logging?level=trace|debug|info|warning|error|critical "
                                         "(one level for all loggers)\n" + loggersText());
        // Envoy's level names onto ours: trace is our debug, critical our error.
        static const std::map<std::string, log::Level, std::less<>> kLevels = {
            {"trace", log::Level::Debug}, {"debug", log::Level::Debug},  {"info", log::Level::Info},
            {"warning", log::Level::Warn}, {"warn", log::Level::Warn},    {"error", log::Level::Error},
            {"critical", log::Level::Error}};
        auto it = kLevels.find(params.begin()->second);
        if (it == kLevels.end())
          return HttpResponse::text(400, fmt::format("unknown level {:?}\n", params.begin()->second));
        log::setLevel(it->second);
        log::info("admin", "log level set to {}", it->first);
        return HttpResponse::text(200, loggersText());
      },
      {"GET", "POST"});
  (void)r.add("/server_info", [this](const HttpRequest&) {
    XdsStats stats = sources_.stats();
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                                   sources_.bootstrap.startedAt);
    json info = {{"version", fmt::format("{}/{}/Clean/RELEASE/meshproxy", gitRevision(), kVersion)},
                 {"state", kStateNames[serverState(stats)]},
                 {"hot_restart_version", "disabled"},
                 {"uptime_current_epoch", fmt::format("{}s", uptime.count())},
                 {"uptime_all_epochs", fmt::format("{}s", uptime.count())},
                 {"command_line_options",
                  {{"log_level", levelName()},
                   {"service_cluster", sources_.bootstrap.node.cluster()},
                   {"service_node", sources_.bootstrap.node.id()},
                   {"mode", "Serve"}}}};
    if (auto node = toEnvoyJson(sources_.bootstrap.node); node) info["node"] = json::parse(*node, nullptr, false);
    return HttpResponse{200, kJson, info.dump(2) + "\n", {}};
  });
  (void)r.add(
      "/quitquitquit",
      [this](const HttpRequest&) {
        log::info("admin", "/quitquitquit: stopping");
        draining_ = true;
        if (sources_.quit) sources_.quit();
        return HttpResponse::text(200, "OK\n");
      },
      {"POST"});
}

HttpResponse AdminServer::prometheusStats() const {
  std::string body = statsPrometheus(collectStats());
  if (sources_.istioMetrics) body += sources_.istioMetrics();
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body), {}};
}

ServerStats AdminServer::collectStats() const {
  ServerStats s;
  s.xds = sources_.stats();
  XdsView view = sources_.view();
  s.activeClusters = view.active->clusters.size();
  s.activeListeners = view.active->listeners.size();
  s.uptimeSeconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - sources_.bootstrap.startedAt)
          .count());
  s.serverState = serverState(s.xds);
  if (sources_.dataPlaneStats) s.dataPlane = sources_.dataPlaneStats();
  return s;
}

void AdminServer::addStatusRoutes() {
  (void)statusRoutes_.add("/healthz/ready", [this](const HttpRequest&) {
    XdsStats stats = sources_.stats();
    if (draining_) return HttpResponse::text(503, "proxy is draining\n");
    if (!stats.initialized)
      return HttpResponse::text(503, fmt::format("proxy is not ready: {}\n", kStateNames[serverState(stats)]));
    if (std::string why = sources_.notReadyReason ? sources_.notReadyReason() : std::string(); !why.empty())
      return HttpResponse::text(503, fmt::format("proxy is not ready: {}\n", why));
    return HttpResponse::text(200, "");
  });
}

Result<void> AdminServer::start() {
  if (auto r = checkAdminAddress(options_.adminAddress, options_.allowRemote); !r) return r;
  admin_ = std::make_unique<monitoring::HttpServer>(adminRoutes_);
  if (auto r = admin_->start(options_.adminAddress); !r)
    return fail(r.error().code, fmt::format("admin endpoint {}: {}", options_.adminAddress, r.error().message));
  if (!options_.statusAddress.empty()) {
    status_ = std::make_unique<monitoring::HttpServer>(statusRoutes_);
    if (auto r = status_->start(options_.statusAddress); !r)
      return fail(r.error().code, fmt::format("status endpoint {}: {}", options_.statusAddress, r.error().message));
  }
  if (!options_.prometheusAddress.empty()) {
    prometheus_ = std::make_unique<monitoring::HttpServer>(prometheusRoutes_);
    if (auto r = prometheus_->start(options_.prometheusAddress); !r) {
      std::string message = fmt::format("Prometheus endpoint {}: {}", options_.prometheusAddress, r.error().message);
      if (!options_.prometheusOptional) return fail(r.error().code, message);
      log::warn("admin", "{}; Istio's metrics are served on the admin endpoint's /stats/prometheus only", message);
      prometheus_.reset();
    }
  }
  return {};
}

void AdminServer::stop() {
  if (prometheus_) prometheus_->stop();
  if (status_) status_->stop();
  if (admin_) admin_->stop();
}

uint16_t AdminServer::adminPort() const { return admin_ ? admin_->port() : 0; }
uint16_t AdminServer::statusPort() const { return status_ ? status_->port() : 0; }
uint16_t AdminServer::prometheusPort() const { return prometheus_ ? prometheus_->port() : 0; }

}  // namespace mesh::proxy::admin
