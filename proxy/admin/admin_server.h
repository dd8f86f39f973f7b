// AdminServer: meshproxy's admin endpoint (Envoy's, on 15000, loopback only unless allowed):
// /config_dump, /clusters, /stats, /stats/prometheus, /ready, /healthz, /logging, /server_info,
// /quitquitquit; the status endpoint (Istio's 15021) with /healthz/ready for probes; and the
// Prometheus endpoint (Istio's 15090) with /stats/prometheus, Istio's metrics included. All
// run on meshd's bounded HTTP/1.1 server (controlplane/monitoring/http_server.h: header and body
// limits, timeouts, a malformed request costs only its connection). main's thread calls start(),
// setDraining() and stop(); handlers run on each server's I/O thread and read the xDS client
// through the thread-safe functions in AdminSources.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "controlplane/monitoring/http_server.h"
#include "controlplane/monitoring/route_table.h"
#include "core/result.h"
#include "proxy/admin/admin_stats.h"
#include "proxy/admin/config_dump.h"

namespace mesh::proxy::admin {

struct AdminOptions {
  std::string adminAddress = "127.0.0.1:15000";
  std::string statusAddress = "127.0.0.1:15021";
  // Istio's merged Prometheus port (15090, /stats/prometheus); "" serves none.
  std::string prometheusAddress;
  bool prometheusOptional = false;  // a Prometheus address that cannot be bound is logged, not fatal
  bool allowRemote = false;  // serve the admin endpoint on a non-loopback address
};

struct AdminSources {
  std::function<XdsView()> view;
  std::function<XdsStats()> stats;
  BootstrapInfo bootstrap;    // startedAt is the process start
  std::function<void()> quit; // /quitquitquit: begin a graceful stop (must not block)
  // Istio's standard metrics (istio_requests_total, ...) in Prometheus text; appended to
  // /stats/prometheus. May be empty.
  std::function<std::string()> istioMetrics;
  // The certificate agent's secrets for /config_dump ("default", "ROOTCA"). May be empty.
  std::function<std::vector<DumpedSecret>()> agentSecrets;
  // Why the proxy cannot serve yet besides xDS ("" when it can), e.g. no workload certificate:
  // /healthz/ready answers 503 with it, as Envoy's readiness waits for its SDS secrets.
  std::function<std::string()> notReadyReason;
  // Hosts outlier detection has ejected now (the data plane's live state) for /clusters. May be empty.
  std::function<EjectedHosts()> ejectedHosts;
  // The data plane's counters (requests, retries, RBAC and JWT denials, ...) for /stats. May be empty.
  std::function<std::vector<StatValue>()> dataPlaneStats;
};

// Usage error unless the address's host is loopback (127.0.0.0/8, ::1, localhost) or
// allowRemote: the admin endpoint shows all config and can stop the proxy.
Result<void> checkAdminAddress(std::string_view address, bool allowRemote);

class AdminServer {
 public:
  AdminServer(AdminSources sources, AdminOptions options);
  ~AdminServer();

  Result<void> start();
  void stop();
  // From now on /healthz, /ready and /healthz/ready answer 503: load balancers stop sending.
  void setDraining() { draining_ = true; }

  uint16_t adminPort() const;
  uint16_t statusPort() const;
  uint16_t prometheusPort() const;

  // The handlers, for tests that call them without sockets.
  const monitoring::RouteTable& adminRoutes() const { return adminRoutes_; }
  const monitoring::RouteTable& statusRoutes() const { return statusRoutes_; }
  const monitoring::RouteTable& prometheusRoutes() const { return prometheusRoutes_; }

 private:
  void addAdminRoutes();
  void addStatusRoutes();
  // Envoy's own stats first, then Istio's standard metrics, as a sidecar's 15090 shows them.
  monitoring::HttpResponse prometheusStats() const;
  ServerStats collectStats() const;
  // Envoy's server.state: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING.
  int serverState(const XdsStats& stats) const;

  AdminSources sources_;
  AdminOptions options_;
  std::atomic<bool> draining_{false};
  monitoring::RouteTable adminRoutes_;
  monitoring::RouteTable statusRoutes_;
  monitoring::RouteTable prometheusRoutes_;
  std::unique_ptr<monitoring::HttpServer> admin_;
  std::unique_ptr<monitoring::HttpServer> status_;
  std::unique_ptr<monitoring::HttpServer> prometheus_;
};

}  // namespace mesh::proxy::admin
