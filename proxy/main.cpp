// meshproxy: the data plane's program. Parses flags (with Istio's environment fallbacks), builds
// the node identity, the xDS client, the config consumer and the admin and status endpoints,
// then runs until SIGTERM/SIGINT or /quitquitquit (STYLE.md: main only wires).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>
#include <fmt/format.h>

#include "core/log.h"
#include "core/version.h"
#include "proxy/admin/admin_server.h"
#include "core/metrics/exposition.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/security/ads_secret_sync.h"
#include "proxy/security/secret_agent.h"
#include "proxy/telemetry/istio_telemetry.h"
#include "proxy/telemetry/peer_labels.h"
#include "proxy/xds/ads_client.h"
#include "proxy/xds/node_identity.h"

namespace {

struct Flags {
  std::string xdsAddress = "127.0.0.1:15010";
  std::string id;
  std::string type = "sidecar";
  std::string namespace_;
  std::string cluster;
  std::string clusterId;
  std::string meshId;
  std::string labels;
  std::string serviceAccount;
  std::string adminAddress = "127.0.0.1:15000";
  bool adminAllowRemote = false;
  std::string statusAddress = "127.0.0.1:15021";
  std::string logLevel = "info";
  bool sotw = false;
  unsigned threads = 0;                    // 0: one worker per hardware thread
  std::vector<std::string> outboundBinds;  // local mode: "127.0.0.1:18080=8080"
  std::vector<std::string> inboundBinds;   // local mode: "127.0.0.11:18081"
  std::vector<std::string> listenerBinds;  // local mode: "virtualInbound=none"
  std::string drainTimeout = "5s";
  std::string prometheusAddress = "127.0.0.1:15090";
  std::string accessLog;                   // "" off, /dev/stdout, or a file
  std::string accessLogEncoding = "TEXT";  // Istio's meshConfig accessLogEncoding
  // The certificate agent (Istio's pilot-agent): on when a root to verify the CA by is given.
  std::string caAddress;  // default: the xDS host, port 15012 (meshd's --ca-address)
  std::string caRootCert;
  std::string caTokenFile;
  std::string trustDomain = "cluster.local";
  bool noCa = false;
};

// meshd serves its CA beside xDS on Istio's port 15012.
std::string defaultCaAddress(const std::string& xdsAddress) {
  auto colon = xdsAddress.rfind(':');
  return (colon == std::string::npos ? xdsAddress : xdsAddress.substr(0, colon)) + ":15012";
}

// "5s", "500ms": the drain time on SIGTERM.
std::optional<std::chrono::milliseconds> parseDrain(const std::string& text) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  if (v < 0) return std::nullopt;
  if (unit == "ms") return std::chrono::milliseconds(v);
  if (unit == "s") return std::chrono::seconds(v);
  return std::nullopt;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Istio's pilot-agent reads these from the pod's environment; a flag given wins.
void applyEnvironment(Flags& f) {
  auto fallback = [](std::string& value, std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (value.empty()) value = env(n);
  };
  fallback(f.namespace_, {"POD_NAMESPACE"});
  fallback(f.clusterId, {"ISTIO_META_CLUSTER_ID"});
  fallback(f.meshId, {"ISTIO_META_MESH_ID"});
  fallback(f.serviceAccount, {"SERVICE_ACCOUNT"});
  fallback(f.labels, {"ISTIO_METAJSON_LABELS_FLAT"});
  fallback(f.caAddress, {"CA_ADDR"});
  // pilot-agent composes the id as TYPE~INSTANCE_IP~POD_NAME.POD_NAMESPACE~NAMESPACE.svc.cluster.local.
  if (f.id.empty() && !env("POD_NAME").empty() && !f.namespace_.empty()) {
    std::string ip = env("INSTANCE_IP").empty() ? "127.0.0.1" : env("INSTANCE_IP");
    f.id = fmt::format("{}~{}~{}.{}~{}.svc.cluster.local", f.type, ip, env("POD_NAME"), f.namespace_, f.namespace_);
  }
}

// The proxy's own workload for telemetry, from the node metadata pilot-agent would send.
mesh::proxy::telemetry::PeerInfo localPeerOf(const envoy::config::core::v3::Node& node) {
  const auto& fields = node.metadata().fields();
  auto text = [&](const char* key) {
    auto it = fields.find(key);
    return it != fields.end() && it->second.has_string_value() ? it->second.string_value() : std::string();
  };
  mesh::proxy::telemetry::LocalWorkload w;
  w.name = text("WORKLOAD_NAME").empty() ? text("NAME") : text("WORKLOAD_NAME");
  w.namespace_ = text("NAMESPACE");
  w.serviceAccount = text("SERVICE_ACCOUNT");
  w.clusterId = text("CLUSTER_ID");
  if (!text("TRUST_DOMAIN").empty()) w.trustDomain = text("TRUST_DOMAIN");
  if (auto labels = fields.find("LABELS"); labels != fields.end() && labels->second.has_struct_value())
    for (const auto& [k, v] : labels->second.struct_value().fields())
      if (v.has_string_value()) w.labels.emplace(k, v.string_value());
  return mesh::proxy::telemetry::localPeer(w);
}

int usage(const std::string& message, const std::string& hint = {}) {
  fmt::print(stderr, "Error: {}\n", message);
  if (!hint.empty()) fmt::print(stderr, "hint: {}\n", hint);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("meshproxy is the mesh's sidecar and gateway proxy, configured by meshd over Envoy's xDS (ADS).",
               "meshproxy");
  app.set_version_flag("--version", std::string(mesh::kVersion));
  Flags f;
  app.add_option("--xds-address", f.xdsAddress, "meshd's xDS HOST:PORT (gRPC, plaintext)")->capture_default_str();
  app.add_option("--id", f.id,
                 "node id TYPE~IP~NAME.NAMESPACE~DOMAIN, e.g. sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local "
                 "(default from POD_NAME, POD_NAMESPACE and INSTANCE_IP)");
  app.add_option("--type", f.type, "proxy type: sidecar or router (a gateway)")
      ->check(CLI::IsMember({"sidecar", "router"}))
      ->capture_default_str();
  app.add_option("--namespace", f.namespace_, "the workload's namespace (env POD_NAMESPACE; default from --id)");
  app.add_option("--cluster", f.cluster, "node.cluster, Istio's service cluster (default APP.NAMESPACE)");
  app.add_option("--cluster-id", f.clusterId, "CLUSTER_ID metadata (env ISTIO_META_CLUSTER_ID; default Kubernetes)");
  app.add_option("--mesh-id", f.meshId, "MESH_ID metadata (env ISTIO_META_MESH_ID; default cluster.local)");
  app.add_option("--labels", f.labels, "workload labels k=v,k2=v2 (LABELS metadata)");
  app.add_option("--service-account", f.serviceAccount, "the workload's service account (env SERVICE_ACCOUNT)");
  app.add_option("--admin-address", f.adminAddress, "admin endpoint HOST:PORT (loopback only)")->capture_default_str();
  app.add_flag("--admin-allow-remote", f.adminAllowRemote, "serve the admin endpoint on a non-loopback address");
  app.add_option("--status-address", f.statusAddress, "HOST:PORT serving /healthz/ready for probes")
      ->capture_default_str();
  app.add_option("--log-level", f.logLevel, "debug, info, warn or error")->capture_default_str();
  app.add_flag("--xds-sotw", f.sotw, "use state-of-the-world xDS only (default: delta, falling back)");
  app.add_option("--threads", f.threads, "worker threads serving traffic (0: one per hardware thread)")
      ->capture_default_str();
  app.add_option("--outbound-bind", f.outboundBinds,
                 "local mode without iptables: LISTEN_IP:PORT=[ORIGINAL_IP:]PORT serves connections accepted on "
                 "LISTEN as if sent to ORIGINAL (the outbound listener for that port); repeatable");
  app.add_option("--inbound-bind", f.inboundBinds,
                 "local mode without iptables: LISTEN_IP:PORT[=[ORIGINAL_IP:]PORT] serves connections accepted on "
                 "LISTEN by virtualInbound as if sent to ORIGINAL (default LISTEN: the workload's address and port); "
                 "repeatable");
  app.add_option("--listener-bind", f.listenerBinds,
                 "NAME=HOST:PORT binds the xDS listener NAME there instead of its own address (port 0: any free "
                 "port), NAME=none not at all, e.g. virtualOutbound=none for sidecars sharing a host; repeatable");
  app.add_option("--drain-timeout", f.drainTimeout, "on SIGTERM, how long in-flight requests may finish")
      ->capture_default_str();
  auto* prometheusOption =
      app.add_option("--prometheus-address", f.prometheusAddress,
                     "HOST:PORT serving /stats/prometheus: Istio's standard metrics and the proxy's stats (\"\" off)")
          ->capture_default_str();
  app.add_option("--access-log", f.accessLog,
                 "access log: a file, /dev/stdout, or \"\" for none (Istio's meshConfig accessLogFile)");
  app.add_option("--access-log-encoding", f.accessLogEncoding, "TEXT (Istio's default format) or JSON")
      ->check(CLI::IsMember({"TEXT", "JSON"}))
      ->capture_default_str();
  auto* caGroup = app.add_option_group("CA", "the workload certificate, as Istio's pilot-agent fetches it for SDS");
  auto* caAddress = caGroup->add_option("--ca-address", f.caAddress,
                                        "HOST:PORT of the CA (env CA_ADDR; default: the xDS host, port 15012)");
  caGroup->add_option("--ca-root-cert", f.caRootCert,
                      "PEM file the CA's serving certificate must chain to; giving it turns the agent on "
                      "(meshd: its <ca-dir>/ca-cert.pem, or GET /ca/root-cert.pem on its monitoring port)");
  auto* caToken = caGroup->add_option("--ca-token-file", f.caTokenFile,
                                      "file whose contents are sent as the CA's bearer token (meshd: <ca-dir>/token)");
  auto* trustDomain =
      caGroup->add_option("--trust-domain", f.trustDomain, "SPIFFE trust domain of the workload identity")
          ->capture_default_str();
  caGroup->add_flag("--no-ca", f.noCa, "no workload certificate (a proxy without mesh TLS); overrides --ca-*");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 64;
  }
  applyEnvironment(f);

  mesh::log::Level level;
  if (!mesh::log::parseLevel(f.logLevel, level))
    return usage(fmt::format("--log-level {:?}: use debug, info, warn or error", f.logLevel));
  mesh::log::setLevel(level);
  if (f.id.empty()) return usage("--id is required", "e.g. --id sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local");
  auto labels = mesh::proxy::parseLabels(f.labels);
  if (!labels) return usage(labels.error().message, labels.error().hint);
  if (auto r = mesh::proxy::admin::checkAdminAddress(f.adminAddress, f.adminAllowRemote); !r)
    return usage(r.error().message, r.error().hint);
  auto drain = parseDrain(f.drainTimeout);
  if (!drain) return usage(fmt::format("--drain-timeout {:?}: use a duration such as 5s or 500ms", f.drainTimeout));

  mesh::proxy::NodeOptions nodeOptions;
  nodeOptions.id = f.id;
  nodeOptions.type = f.type;
  nodeOptions.namespace_ = f.namespace_;
  nodeOptions.cluster = f.cluster;
  nodeOptions.clusterId = f.clusterId;
  nodeOptions.meshId = f.meshId;
  nodeOptions.labels = std::move(*labels);
  nodeOptions.serviceAccount = f.serviceAccount;
  if (auto colon = f.statusAddress.rfind(':'); colon != std::string::npos)
    nodeOptions.statusPort = f.statusAddress.substr(colon + 1);
  auto node = mesh::proxy::buildNode(nodeOptions);
  if (!node) return usage(node.error().message, node.error().hint);
  bool caOn = !f.noCa && !f.caRootCert.empty();
  if (!f.noCa && f.caRootCert.empty() && (caAddress->count() + caToken->count() + trustDomain->count()) > 0)
    return usage("--ca-address, --ca-token-file and --trust-domain need --ca-root-cert",
                 "give the PEM the CA's certificate chains to (meshd's <ca-dir>/ca-cert.pem), or --no-ca");

  // Signals are taken by sigwait() below; every thread started from here inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto accessLog = mesh::proxy::telemetry::AccessLog::open(
      f.accessLog, f.accessLogEncoding == "JSON" ? mesh::proxy::telemetry::AccessLogEncoding::Json
                                                 : mesh::proxy::telemetry::AccessLogEncoding::Text);
  if (!accessLog) return usage(fmt::format("--access-log: {}", accessLog.error().message));
  mesh::metrics::Registry istioRegistry;
  auto telemetry = std::make_shared<mesh::proxy::telemetry::IstioTelemetry>(istioRegistry, std::move(*accessLog));

  // The TLS material of the data plane: the agent's "default" and "ROOTCA", and the Secrets
  // meshd sends over ADS (gateway credentials).
  auto secrets = std::make_shared<mesh::proxy::dataplane::SecretStore>();
  std::unique_ptr<mesh::proxy::security::SecretAgent> agent;
  if (caOn) {
    const auto& meta = node->metadata().fields();
    auto metaText = [&meta](const char* key, const char* fallback) {
      auto it = meta.find(key);
      return it != meta.end() && !it->second.string_value().empty() ? it->second.string_value()
                                                                      : std::string(fallback);
    };
    mesh::proxy::security::CertificateManagerOptions certOptions;
    certOptions.client.address = f.caAddress.empty() ? defaultCaAddress(f.xdsAddress) : f.caAddress;
    certOptions.client.rootCertFile = f.caRootCert;
    certOptions.client.tokenFile = f.caTokenFile;
    certOptions.client.trustDomain = f.trustDomain;
    certOptions.client.ns = metaText("NAMESPACE", "default");
    certOptions.client.serviceAccount = metaText("SERVICE_ACCOUNT", "default");
    agent = std::make_unique<mesh::proxy::security::SecretAgent>(certOptions, secrets);
  }

  mesh::proxy::dataplane::DataPlaneOptions planeOptions;
  planeOptions.secrets = secrets;
  planeOptions.observer = telemetry;
  planeOptions.localPeer = localPeerOf(*node);
  planeOptions.threads = f.threads;
  planeOptions.nodeId = f.id;
  planeOptions.drainTimeout = *drain;
  using mesh::proxy::dataplane::BindDirection;
  for (auto [flag, specs, direction] : {std::tuple{"--outbound-bind", &f.outboundBinds, BindDirection::Outbound},
                                        std::tuple{"--inbound-bind", &f.inboundBinds, BindDirection::Inbound}}) {
    for (const std::string& spec : *specs) {
      auto bind = mesh::proxy::dataplane::parseLocalBind(spec, direction);
      if (!bind) return usage(fmt::format("{} {}: {}", flag, spec, bind.error().message), bind.error().hint);
      planeOptions.localBinds.push_back(*bind);
    }
  }
  for (const std::string& spec : f.listenerBinds) {
    auto bind = mesh::proxy::dataplane::parseListenerBind(spec);
    if (!bind) return usage(fmt::format("--listener-bind {}: {}", spec, bind.error().message), bind.error().hint);
    planeOptions.listenerBinds.push_back(*bind);
  }
  mesh::proxy::dataplane::DataPlane plane(planeOptions);
  if (auto r = plane.start(); !r) {
    fmt::print(stderr, "Error: {}\n", r.error().message);
    if (!r.error().hint.empty()) fmt::print(stderr, "hint: {}\n", r.error().hint);
    return r.error().code == mesh::ErrorCode::Usage ? 64 : 69;
  }
  mesh::proxy::AdsClientOptions xdsOptions;
  xdsOptions.address = f.xdsAddress;
  xdsOptions.tryDelta = !f.sotw;
  mesh::proxy::security::AdsSecretSync planeWithSecrets(plane, secrets);
  mesh::proxy::AdsClient xds(xdsOptions, *node, planeWithSecrets);

  mesh::proxy::admin::AdminSources sources;
  sources.view = [&xds] { return xds.view(); };
  sources.stats = [&xds] { return xds.stats(); };
  sources.bootstrap.node = *node;
  sources.bootstrap.xdsAddress = f.xdsAddress;
  sources.bootstrap.adminAddress = f.adminAddress;
  sources.bootstrap.delta = !f.sotw;
  sources.bootstrap.startedAt = std::chrono::system_clock::now();
  sources.quit = [] { kill(getpid(), SIGTERM); };  // main's sigwait() runs the stop
  sources.istioMetrics = [&istioRegistry] { return mesh::metrics::expose(istioRegistry); };
  sources.dataPlaneStats = [&plane] {
    mesh::proxy::dataplane::DataPlaneStats d = plane.stats();
    return std::vector<mesh::proxy::admin::StatValue>{
        {"dataplane.downstream_cx_total", true, d.downstreamConnections},
        {"dataplane.downstream_rq_total", true, d.requests},
        {"dataplane.local_replies", true, d.localReplies},
        {"dataplane.upstream_rq_total", true, d.upstreamRequests},
        {"dataplane.upstream_rq_retry", true, d.retries},
        {"dataplane.upstream_rq_overflow", true, d.overflows},
        {"dataplane.rbac.allowed", true, d.rbacAllowed},
        {"dataplane.rbac.denied", true, d.rbacDenied},
        {"dataplane.jwt_authn.denied", true, d.jwtDenied},
        {"dataplane.ext_authz.ok", true, d.extAuthzAllowed},
        {"dataplane.ext_authz.denied", true, d.extAuthzDenied},
        {"dataplane.ext_authz.error", true, d.extAuthzErrors},
    };
  };
  sources.ejectedHosts = [&plane] {
    mesh::proxy::admin::EjectedHosts out;
    for (const auto& cluster : plane.clusterStatuses())
      for (const auto& host : cluster.hosts)
        if (host.ejected) out.insert(cluster.name + "::" + host.endpoint.key());
    return out;
  };
  if (agent) {
    sources.agentSecrets = [&agent] { return agent->dumpedSecrets(); };
    sources.notReadyReason = [&agent] { return agent->notReadyReason(); };
  }
  mesh::proxy::admin::AdminOptions adminOptions;
  adminOptions.adminAddress = f.adminAddress;
  adminOptions.statusAddress = f.statusAddress;
  adminOptions.allowRemote = f.adminAllowRemote;
  adminOptions.prometheusAddress = f.prometheusAddress;
  // Local mode runs many proxies on one host: the default 15090 taken by another proxy is not
  // fatal (the admin /stats/prometheus has the same metrics); an address given is.
  adminOptions.prometheusOptional = prometheusOption->count() == 0;
  mesh::proxy::admin::AdminServer admin(std::move(sources), adminOptions);
  if (auto r = admin.start(); !r) {
    fmt::print(stderr, "Error: {}\n", r.error().message);
    if (!r.error().hint.empty()) fmt::print(stderr, "hint: {}\n", r.error().hint);
    return r.error().code == mesh::ErrorCode::Usage ? 64 : 69;
  }
  if (agent) {
    agent->start();
    mesh::log::info("main", "certificate agent: {} from {}", agent->identity(),
                    f.caAddress.empty() ? defaultCaAddress(f.xdsAddress) : f.caAddress);
  }
  xds.start();
  mesh::log::info("main", "meshproxy {} {} started: xDS {}, admin 127.0.0.1:{}, status port {}, Prometheus port {}",
                  mesh::kVersion, node->id(), f.xdsAddress, admin.adminPort(), admin.statusPort(),
                  admin.prometheusPort());

  int sig = 0;
  sigwait(&signals, &sig);
  mesh::log::info("main", "signal {}: stopping", sig);
  // Envoy's drain: stop accepting, let in-flight requests finish (bounded), then close.
  admin.setDraining();
  plane.drain();
  auto drainUntil = std::chrono::steady_clock::now() + *drain;
  auto inFlight = [&plane] {
    uint64_t n = 0;
    for (const auto& c : plane.clusterStatuses()) n += c.activeRequests;
    return n;
  };
  while (inFlight() > 0 && std::chrono::steady_clock::now() < drainUntil)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  xds.stop();
  if (agent) agent->stop();
  plane.stop();
  admin.stop();
  return 0;
}
