// meshd: the control plane. Parses flags, builds the config store, the ADS server, the push
// loop and the monitoring server, then runs until SIGINT/SIGTERM (STYLE.md: main only wires).
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <fmt/format.h>

#include "backends/file/directory_store.h"
#include "backends/kube/kube_store.h"
#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/ca_routes.h"
#include "controlplane/ca/ca_server.h"
#include "backends/kube/multi_cluster_store.h"
#include "backends/kube/remote_clusters.h"
#include "controlplane/debug/debug_routes.h"
#include "controlplane/debug/debug_server.h"
#include "controlplane/debug/debug_service.h"
#include "controlplane/debug/push_history.h"
#include "controlplane/jwks/jwks_resolver.h"
#include "controlplane/model/service.h"
#include "controlplane/monitoring/http_server.h"
#include "controlplane/monitoring/monitoring_routes.h"
#include "controlplane/monitoring/pilot_metrics.h"
#include "controlplane/server/ads_server.h"
#include "controlplane/server/mesh_config_source.h"
#include "controlplane/server/push_loop.h"
#include "controlplane/xds/security/ext_authz_provider.h"
#include "controlplane/xds/xds_resource.h"
#include "core/log.h"
#include "core/version.h"
#include "install/meshd_access.h"

namespace {

struct Flags {
  std::string configDir = ".";
  bool kube = false;  // read config from a Kubernetes API server instead of configDir
  std::string kubeconfig;
  std::string kubeContext;
  std::string clusterId = "Kubernetes";  // Istio's CLUSTER_ID default
  std::string clusterSecretsNamespace;   // default $POD_NAMESPACE, else istio-system
  std::string xdsAddress = "127.0.0.1:15010";
  std::string monitoringAddress = "127.0.0.1:15014";
  mesh::debug::DebugServerOptions debug;
  std::string debounce = "100ms";
  std::string logLevel = "info";
  size_t maxStreams = 20000;
  int maxReceiveMessageBytes = 4 * 1024 * 1024;
  std::string rootNamespace = "istio-system";
  std::string domain = "cluster.local";
  std::string meshConfigFile;  // istiod's --meshConfig; else the `istio` ConfigMap of the root namespace
  // meshd's CA (controlplane/ca): off unless --ca or another --ca-* flag is given.
  bool ca = false;
  std::string caAddress = "127.0.0.1:15012";
  std::string caDir;  // default: $MESH_HOME/ca, else ~/.meshctl/ca
  mesh::ca::PluggedCaFiles caFiles;
  std::string caTokenFile;  // default: <ca-dir>/token
  std::string trustDomain = "cluster.local";
  std::string workloadCertTtl = "24h";
  std::string maxWorkloadCertTtl = "2160h";
  // RequestAuthentication keys meshd fetches for jwksUri / issuer discovery (controlplane/jwks).
  std::string jwksRefresh = "20m";  // Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL
  std::string jwksFetchTimeout = "5s";
};

// Where the local mesh keeps its state (meshctl's mesh home), so `meshctl install` and meshd
// agree on the CA's files without passing them around.
std::string defaultCaDir() {
  if (const char* home = std::getenv("MESH_HOME"); home && *home) return std::string(home) + "/ca";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.meshctl/ca";
  return ".meshctl/ca";
}

int exitCodeOf(const mesh::Error& e) {
  switch (e.code) {
    case mesh::ErrorCode::Usage: return 64;
    case mesh::ErrorCode::InvalidInput:
    case mesh::ErrorCode::Conflict: return 65;
    case mesh::ErrorCode::Unavailable: return 69;
    case mesh::ErrorCode::Io:
    case mesh::ErrorCode::NotFound: return 74;
    default: return 70;
  }
}

int reportError(const mesh::Error& e) {
  fmt::print(stderr, "Error: {}\n", e.message);
  if (!e.hint.empty()) fmt::print(stderr, "hint: {}\n", e.hint);
  return exitCodeOf(e);
}

int waitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::optional<std::chrono::milliseconds> parseMillis(const std::string& text) {
  // Go-style durations as Istio's PILOT_DEBOUNCE_AFTER takes them: "100ms", "1s", "0".
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double ms = unit == "ms" ? v
              : unit == "s" ? v * 1000
              : unit == "m" ? v * 60'000
              : unit == "h" ? v * 3'600'000
              : (unit.empty() && v == 0) ? 0
                                         : -1;
  if (ms < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

// Istio reports the pod name as the serving istiod; in Kubernetes that is the host name.
std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "meshd";
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  // Responses of several megabytes are built and freed by the thousand. With glibc's dynamic
  // mmap threshold they end up in heap arenas that keep the memory after free; a fixed
  // threshold maps them directly, so freeing returns them to the OS.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app("meshd serves mesh config to proxies over Envoy's xDS API.", "meshd");
  app.set_version_flag("--version", std::string(mesh::kVersion));
  Flags f;
  app.add_option("--config-dir", f.configDir, "directory of mesh config YAML, watched live")->capture_default_str();
  app.add_flag("--kube", f.kube,
               "read config from Kubernetes (in-cluster service account, else $KUBECONFIG or ~/.kube/config) "
               "instead of --config-dir");
  app.add_option("--kubeconfig", f.kubeconfig, "read config from the cluster of this kubeconfig (implies --kube)");
  app.add_option("--context", f.kubeContext, "kubeconfig context to use (implies --kube; default: current-context)");
  app.add_option("--cluster-id", f.clusterId,
                 "this cluster's ID; a remote secret naming it is skipped (with --kube)")
      ->capture_default_str();
  app.add_option("--cluster-secrets-namespace", f.clusterSecretsNamespace,
                 "namespace of the remote secrets (labelled istio/multiCluster=true) whose clusters' services "
                 "and endpoints are added (with --kube; default: $POD_NAMESPACE, else istio-system)");
  app.add_option("--xds-address", f.xdsAddress, "HOST:PORT for ADS (gRPC, plaintext)")->capture_default_str();
  app.add_option("--monitoring-address", f.monitoringAddress, "HOST:PORT for /ready, /metrics and /version")
      ->capture_default_str();
  app.add_option("--debug-address", f.debug.address,
                 "HOST:PORT for the debug gRPC API; non-loopback needs mTLS or --debug-allow-remote")
      ->capture_default_str();
  app.add_flag("--debug-allow-remote", f.debug.allowRemote,
               "serve the debug API on a non-loopback address without mTLS (it shows every proxy's config)");
  app.add_option("--debug-tls-cert", f.debug.tlsCert, "PEM certificate for the debug API's mTLS");
  app.add_option("--debug-tls-key", f.debug.tlsKey, "PEM private key for the debug API's mTLS");
  app.add_option("--debug-tls-ca", f.debug.tlsCa, "PEM CA bundle that debug API clients' certificates must chain to");
  app.add_option("--debounce", f.debounce, "quiet time before a config change is pushed (e.g. 100ms)")
      ->capture_default_str();
  app.add_option("--log-level", f.logLevel, "debug, info, warn or error")->capture_default_str();
  app.add_option("--max-streams", f.maxStreams, "xDS streams served at once; more are refused")
      ->capture_default_str();
  app.add_option("--max-receive-message-bytes", f.maxReceiveMessageBytes, "largest xDS request accepted")
      ->capture_default_str();
  app.add_option("--root-namespace", f.rootNamespace, "MeshConfig rootNamespace: mesh-wide policies live here")
      ->capture_default_str();
  app.add_option("--domain", f.domain, "cluster DNS domain of Kubernetes services")->capture_default_str();
  app.add_option("--mesh-config,--meshConfig", f.meshConfigFile,
                 "MeshConfig YAML file, re-read when it changes (default: the `mesh` key of the `istio` ConfigMap in "
                 "the root namespace, from the config backend)");
  app.add_option("--jwks-refresh", f.jwksRefresh,
                 "how often the keys of a RequestAuthentication jwksUri (or issuer discovery) are fetched again")
      ->capture_default_str();
  app.add_option("--jwks-fetch-timeout", f.jwksFetchTimeout,
                 "time limit of one JWKS or discovery document fetch, for jwtRules without a timeout")
      ->capture_default_str();
  auto* caGroup = app.add_option_group("CA", "Istio's certificate authority for workload mTLS (off by default)");
  caGroup->add_flag("--ca", f.ca, "serve Istio's IstioCertificateService (implied by any other --ca-* flag)");
  auto* caAddress = caGroup->add_option("--ca-address", f.caAddress, "HOST:PORT of the CA (gRPC over TLS)")
                        ->capture_default_str();
  auto* caDir = caGroup->add_option("--ca-dir", f.caDir,
                                    "directory of the self-signed root (ca-cert.pem, ca-key.pem) and the token file "
                                    "(default: $MESH_HOME/ca, else ~/.meshctl/ca)");
  auto* caCert = caGroup->add_option("--ca-cert", f.caFiles.cert, "plugged-in CA: signing certificate PEM");
  auto* caKey = caGroup->add_option("--ca-key", f.caFiles.key, "plugged-in CA: its private key PEM");
  auto* caChain = caGroup->add_option("--ca-chain", f.caFiles.chain,
                                      "plugged-in CA: the certificates above --ca-cert, root last");
  auto* caToken = caGroup->add_option("--ca-token-file", f.caTokenFile,
                                      "bearer token callers must send; created 0600 if missing (default: "
                                      "<ca-dir>/token)");
  auto* trustDomain =
      caGroup->add_option("--trust-domain", f.trustDomain, "SPIFFE trust domain of workload certificates")
          ->capture_default_str();
  auto* certTtl = caGroup->add_option("--workload-cert-ttl", f.workloadCertTtl,
                                      "lifetime of a workload certificate when the request names none")
                      ->capture_default_str();
  auto* maxCertTtl = caGroup->add_option("--max-workload-cert-ttl", f.maxWorkloadCertTtl,
                                         "longest lifetime a request may ask for")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const CLI::Option* o : {caAddress, caDir, caCert, caKey, caChain, caToken, trustDomain, certTtl, maxCertTtl})
    f.ca = f.ca || o->count() > 0;

  mesh::log::Level level;
  if (!mesh::log::parseLevel(f.logLevel, level)) {
    fmt::print(stderr, "Error: --log-level {:?}: use debug, info, warn or error\n", f.logLevel);
    return 64;
  }
  mesh::log::setLevel(level);
  auto debounce = parseMillis(f.debounce);
  if (!debounce) {
    fmt::print(stderr, "Error: --debounce {:?}: use a duration such as 100ms or 1s\n", f.debounce);
    return 64;
  }
  auto jwksRefresh = parseMillis(f.jwksRefresh);
  auto jwksFetchTimeout = parseMillis(f.jwksFetchTimeout);
  if (!jwksRefresh || !jwksFetchTimeout || jwksRefresh->count() <= 0 || jwksFetchTimeout->count() <= 0) {
    fmt::print(stderr, "Error: --jwks-refresh and --jwks-fetch-timeout: use positive durations such as 20m or 5s\n");
    return 64;
  }
  // Debian's Abseil checks every mutex for deadlock cycles; that costs a busy gRPC server
  // 15-20% CPU (../shared/notes/grpc-on-debian.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by sigwait() in main; every thread started below inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::unique_ptr<mesh::core::ConfigStore> store;
  std::unique_ptr<mesh::backends::kube::RemoteClusters> remoteClusters;  // destroyed before `store`
  std::shared_ptr<mesh::backends::kube::KubeClient> kubeClient;          // for the MeshConfig ConfigMap
  if (f.kube || !f.kubeconfig.empty() || !f.kubeContext.empty()) {
    namespace kube = mesh::backends::kube;
    auto config = kube::KubeConfigOptions::fromEnvironment();
    config.explicitPath = f.kubeconfig;
    config.context = f.kubeContext;
    auto kubeError = [](const mesh::Error& e) {
      fmt::print(stderr, "Error: Kubernetes: {}\n", e.message);
      if (!e.hint.empty()) fmt::print(stderr, "  {}\n", e.hint);
      return 69;
    };
    auto rest = kube::loadRestConfig(config);
    if (!rest) return kubeError(rest.error());
    for (const auto& w : rest->warnings) mesh::log::warn("kube", "{}", w);
    auto client = kube::KubeClient::create(std::move(*rest));
    if (!client) return kubeError(client.error());
    // Exactly what the install's ClusterRole grants (install/meshd_access), read-only.
    kube::KubeStoreOptions kubeOptions;
    for (const mesh::core::KindInfo* k : mesh::install::meshdReadKinds())
      kubeOptions.kinds.push_back({std::string(k->group), std::string(k->kind)});
    kubeOptions.readOnly = true;
    kubeClient = *client;
    auto primary = kube::KubeStore::open(*client, kubeOptions);
    if (!primary) return kubeError(primary.error());
    mesh::log::info("config", "{}", (*primary)->describe());
    // Multi-primary: the services and endpoints of every cluster a remote secret names.
    auto multi = kube::MultiClusterStore::open(std::shared_ptr<kube::KubeStore>(std::move(*primary)), f.clusterId);
    if (!multi) return kubeError(multi.error());
    kube::RemoteClustersOptions remoteOptions;
    remoteOptions.namespace_ = !f.clusterSecretsNamespace.empty() ? f.clusterSecretsNamespace
                               : !config.podNamespace.empty()     ? config.podNamespace
                                                                  : "istio-system";
    remoteOptions.localClusterId = f.clusterId;
    remoteOptions.kinds = {{"", "Service"}, {"", "Pod"}, {"discovery.k8s.io", "EndpointSlice"}};
    remoteClusters = std::make_unique<kube::RemoteClusters>(*client, **multi, remoteOptions);
    store = std::move(*multi);
  } else {
    mesh::backends::DirectoryStoreOptions storeOptions;
    storeOptions.readOnly = true;
    storeOptions.debounce = std::chrono::milliseconds(10);  // meshd debounces pushes itself
    auto dir = mesh::backends::DirectoryStore::open(f.configDir, storeOptions);
    if (!dir) {
      fmt::print(stderr, "Error: --config-dir {}: {}\n", f.configDir, dir.error().message);
      return dir.error().code == mesh::ErrorCode::NotFound ? 66 : 74;
    }
    for (const auto& d : (*dir)->diagnostics()) mesh::log::warn("config", "{}", d.format());
    store = std::move(*dir);
  }

  // MeshConfig: the file given, else the `istio` ConfigMap of the root namespace, from the config
  // directory or (Kubernetes) from a store of just that object. Changes push to every proxy.
  std::atomic<mesh::server::PushLoop*> pushLoop{nullptr};
  mesh::server::MeshConfigSourceHooks meshHooks;
  meshHooks.changed = [&] {
    mesh::log::info("mesh", "MeshConfig changed: pushing to every proxy");
    if (auto* loop = pushLoop.load()) loop->requestPush({});
  };
  meshHooks.rejected = [](const mesh::Error& e) { mesh::log::error("mesh", "{} ({})", e.message, e.hint); };
  const mesh::core::ResourceKey meshConfigMap{"", "ConfigMap", f.rootNamespace, "istio"};
  std::unique_ptr<mesh::backends::kube::KubeStore> meshConfigStore;  // outlives meshSource
  std::unique_ptr<mesh::server::MeshConfigSource> meshSource;
  {
    mesh::Result<std::unique_ptr<mesh::server::MeshConfigSource>> source =
        mesh::fail(mesh::ErrorCode::Internal, "no MeshConfig source");
    if (!f.meshConfigFile.empty()) {
      source = mesh::server::MeshConfigSource::fromFile(f.meshConfigFile, meshHooks);
    } else if (kubeClient) {
      namespace kube = mesh::backends::kube;
      kube::KubeStoreOptions cmOptions;
      cmOptions.kinds = {{"", "ConfigMap"}};
      cmOptions.namespace_ = f.rootNamespace;
      cmOptions.fieldSelector = "metadata.name=istio";
      cmOptions.readOnly = true;
      auto opened = kube::KubeStore::open(kubeClient, cmOptions);
      if (opened) {
        meshConfigStore = std::move(*opened);
        source = mesh::server::MeshConfigSource::fromConfigMap(*meshConfigStore, meshConfigMap, meshHooks);
      } else {
        mesh::log::warn("mesh", "cannot watch ConfigMap {}/istio ({}): using Istio's default MeshConfig; meshd needs "
                        "get, list and watch on configmaps in {}", f.rootNamespace, opened.error().message,
                        f.rootNamespace);
      }
    } else {
      source = mesh::server::MeshConfigSource::fromConfigMap(*store, meshConfigMap, meshHooks);
    }
    if (source) {
      meshSource = std::move(*source);
    } else if (meshConfigStore || !f.meshConfigFile.empty() || !kubeClient) {
      fmt::print(stderr, "Error: MeshConfig: {}\n", source.error().message);
      return source.error().code == mesh::ErrorCode::InvalidInput ? 65
             : source.error().code == mesh::ErrorCode::NotFound   ? 66
                                                                   : 74;
    }
  }
  if (meshSource) mesh::log::info("mesh", "MeshConfig from {}", meshSource->describe());

  mesh::metrics::Registry registry;
  mesh::monitoring::PilotMetrics metrics(registry);
  mesh::debug::PushHistory pushHistory;
  auto generators = mesh::xds::GeneratorSet::standard();
  mesh::server::AdsServerHooks hooks;
  hooks.pushed = [&](std::string_view type, size_t bytes, double seconds) {
    std::string_view t = mesh::xds::shortTypeName(type);
    metrics.xdsPushes.with({t}).inc();
    metrics.xdsConfigSizeBytes.with({t}).observe(static_cast<double>(bytes));
    metrics.xdsPushTime.with({t}).observe(seconds);
    pushHistory.recordPush(type, bytes, seconds);
  };
  hooks.rejected = [&](const mesh::model::Proxy& p, std::string_view type, std::string_view message) {
    metrics.totalXdsRejects.with({mesh::xds::shortTypeName(type)}).inc();
    pushHistory.recordError(mesh::debug::PushHistory::ErrorKind::Nack, p.id, type, message);
    mesh::log::warn("ads", "{} rejected {}: {}", p.id, mesh::xds::shortTypeName(type), message);
  };
  hooks.converged = [&](double s) { metrics.proxyConvergenceTime.observe(s); };
  hooks.internalError = [&](const mesh::model::Proxy& p, std::string_view type, std::string_view what) {
    metrics.totalXdsInternalErrors.inc();
    pushHistory.recordError(mesh::debug::PushHistory::ErrorKind::Internal, p.id, type, what);
    mesh::log::error("ads", "generating {} for {} failed: {}", mesh::xds::shortTypeName(type), p.id, what);
  };
  hooks.connection = [&](const mesh::model::Proxy& p, bool up) {
    std::string version = p.istioVersion.empty() ? p.userAgentVersion : p.istioVersion;
    if (up) metrics.xdsClients.with({version}).inc();
    else metrics.xdsClients.with({version}).dec();
    mesh::log::info("ads", "{} {}", up ? "connected" : "disconnected", p.id);
  };
  mesh::server::AdsServerOptions adsOptions;
  adsOptions.maxStreams = f.maxStreams;
  mesh::server::AdsServer ads(generators, adsOptions, hooks);

  mesh::server::PushLoopOptions loopOptions;
  loopOptions.debounce = *debounce;
  loopOptions.snapshot.rootNamespace = f.rootNamespace;
  loopOptions.snapshot.domain = f.domain;
  loopOptions.snapshot.trustDomain = f.trustDomain;  // a MeshConfig trustDomain overrides it
  mesh::server::PushLoopHooks loopHooks;
  loopHooks.triggered = [&](std::string_view reason) { metrics.pushTriggers.with({reason}).inc(); };
  loopHooks.queued = [&](double s) { metrics.proxyQueueTime.observe(s); };
  loopHooks.skipped = [&](const mesh::core::Diagnostic& d) {
    mesh::log::error("config", "skipped invalid config: {}", d.format());
  };
  mesh::jwks::JwksResolverOptions jwksOptions;
  jwksOptions.refresh = *jwksRefresh;
  jwksOptions.fetchTimeout = *jwksFetchTimeout;
  mesh::jwks::JwksResolver jwksResolver(mesh::jwks::makeCurlFetcher({}), jwksOptions);
  loopHooks.jwtKeys = [&] { return jwksResolver.keys(); };
  loopHooks.meshConfig = [&] { return meshSource ? meshSource->current() : nullptr; };
  std::set<std::string> reportedProviders;  // loop thread only
  loopHooks.snapshotBuilt = [&](const mesh::model::ConfigSnapshot& s) {
    bool keysChanged = jwksResolver.track(mesh::jwks::jwksSources(s));
    // A CUSTOM policy whose provider does not resolve denies every request: say why, once.
    std::set<std::string> problems;
    for (const mesh::core::Resource* p : s.ofKind("security.istio.io", "AuthorizationPolicy")) {
      const mesh::core::Node* spec = p->spec();
      const mesh::core::Node* provider = spec ? spec->get("provider") : nullptr;
      const mesh::core::Node* name = provider ? provider->get("name") : nullptr;
      const mesh::core::Node* action = spec ? spec->get("action") : nullptr;
      if (!name || !name->isScalar() || !action || action->text() != "CUSTOM") continue;
      if (auto r = mesh::xds::security::resolveExtAuthzProvider(s, name->text()); !r)
        problems.insert(fmt::format("{}: {}: the workloads it selects deny every request", p->displayName(),
                                    r.error().message));
    }
    for (const auto& line : problems)
      if (!reportedProviders.contains(line)) mesh::log::error("authz", "{}", line);
    reportedProviders = std::move(problems);
    return keysChanged;
  };
  mesh::server::PushLoop loop(*store, ads, loopOptions, loopHooks);
  pushLoop = &loop;
  struct DetachLoop {  // the MeshConfig source outlives the loop: it must stop calling it
    std::atomic<mesh::server::PushLoop*>& loop;
    ~DetachLoop() { loop = nullptr; }
  } detachLoop{pushLoop};
  // The resolver calls into the loop: it stops first, whichever way main returns.
  struct StopResolver {
    mesh::jwks::JwksResolver& resolver;
    ~StopResolver() { resolver.stop(); }
  } stopResolver{jwksResolver};
  // New or rotated keys change only the jwt_authn filters, which live in listeners. Started
  // before the loop, so even the first push waits for the keys of the sources config names.
  jwksResolver.start([&] {
    if (auto* l = pushLoop.load()) l->requestPush({std::string(mesh::xds::type_url::kListener)});
  });
  if (auto started = loop.start(); !started) {
    fmt::print(stderr, "Error: {}\n", started.error().message);
    return 74;
  }

  grpc::ServerBuilder builder;
  int xdsPort = 0;
  builder.AddListeningPort(f.xdsAddress, grpc::InsecureServerCredentials(), &xdsPort);
  builder.RegisterService(&ads);
  builder.SetMaxReceiveMessageSize(f.maxReceiveMessageBytes);
  builder.SetMaxSendMessageSize(-1);  // a full push to a large mesh may exceed gRPC's 4 MiB default
  std::unique_ptr<grpc::Server> grpcServer = builder.BuildAndStart();
  if (!grpcServer || xdsPort == 0) {
    fmt::print(stderr, "Error: --xds-address {}: cannot listen there\n", f.xdsAddress);
    return 69;
  }

  mesh::debug::DebugService debugService(ads, generators, pushHistory, {hostName(), std::chrono::system_clock::now()});
  int debugPort = 0;
  auto debugServer = mesh::debug::startDebugServer(f.debug, debugService, debugPort);
  if (!debugServer) {
    fmt::print(stderr, "Error: {}\n", debugServer.error().message);
    if (!debugServer.error().hint.empty()) fmt::print(stderr, "hint: {}\n", debugServer.error().hint);
    switch (debugServer.error().code) {
      case mesh::ErrorCode::Unavailable: return 69;  // cannot listen
      case mesh::ErrorCode::Io: return 66;           // a TLS file cannot be read
      case mesh::ErrorCode::InvalidInput: return 65;  // a TLS file is not PEM
      default: return 64;
    }
  }

  std::unique_ptr<mesh::ca::CertificateAuthority> ca;
  std::unique_ptr<mesh::ca::CaServer> caServer;
  if (f.ca) {
    mesh::ca::CaOptions caOptions;
    caOptions.trustDomain = f.trustDomain;
    // Istio's CA signs for the MeshConfig trustDomain; an explicit --trust-domain still wins.
    if (meshSource && meshSource->current()->trustDomainSet && trustDomain->count() == 0)
      caOptions.trustDomain = meshSource->current()->trustDomain;
    auto ttl = parseMillis(f.workloadCertTtl);
    auto maxTtl = parseMillis(f.maxWorkloadCertTtl);
    if (!mesh::ca::isValidTrustDomain(caOptions.trustDomain))
      return reportError({mesh::ErrorCode::Usage, fmt::format("trust domain {:?}: use lower-case letters, digits, "
                                                              "'.', '-' and '_'", caOptions.trustDomain), ""});
    if (!ttl || !maxTtl || *ttl < std::chrono::seconds(1) || *ttl > *maxTtl)
      return reportError({mesh::ErrorCode::Usage, "--workload-cert-ttl and --max-workload-cert-ttl: durations such as "
                                                  "24h or 2160h, the default not above the max", ""});
    caOptions.defaultTtl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
    caOptions.maxTtl = std::chrono::duration_cast<std::chrono::seconds>(*maxTtl);
    std::string dir = f.caDir.empty() ? defaultCaDir() : f.caDir;
    auto loaded = !f.caFiles.cert.empty() || !f.caFiles.key.empty() || !f.caFiles.chain.empty()
                      ? mesh::ca::loadPluggedCa(f.caFiles, caOptions)
                      : mesh::ca::loadOrCreateSelfSignedCa(dir, caOptions);
    if (!loaded) return reportError(loaded.error());
    ca = std::move(*loaded);
    auto token = mesh::ca::loadOrCreateToken(f.caTokenFile.empty() ? dir + "/token" : f.caTokenFile);
    if (!token) return reportError(token.error());
    mesh::ca::CaServerOptions caServerOptions;
    caServerOptions.address = f.caAddress;
    caServerOptions.dnsNames = mesh::ca::servingDnsNames(hostName());
    auto started = mesh::ca::CaServer::start(*ca, *token, caServerOptions);
    if (!started) return reportError(started.error());
    caServer = std::move(*started);
    f.trustDomain = caOptions.trustDomain;  // for the log line below
  }

  mesh::monitoring::RouteTable routes;
  auto added = mesh::monitoring::addMonitoringRoutes(routes, registry, [&] {
    return loop.ready() ? mesh::monitoring::Readiness{true, ""}
                        : mesh::monitoring::Readiness{false, "config not loaded yet"};
  });
  if (added) added = mesh::debug::addDebugRoutes(routes, ads);
  if (added && ca) added = mesh::ca::addCaRoutes(routes, *ca);
  if (!added) {
    fmt::print(stderr, "Error: {}\n", added.error().message);
    return 70;
  }
  mesh::monitoring::HttpServer monitoring(std::move(routes));
  if (auto started = monitoring.start(f.monitoringAddress); !started) {
    fmt::print(stderr, "Error: --monitoring-address {}: {}\n", f.monitoringAddress, started.error().message);
    return 69;
  }
  mesh::log::info("meshd", "{} serving xDS on port {}, monitoring on port {}, debug API on port {}{}, config from {}",
                  mesh::kVersion, xdsPort, monitoring.port(), debugPort, f.debug.tls() ? " (mTLS)" : "", f.configDir);
  if (caServer)
    mesh::log::info("meshd", "CA serving on port {} for trust domain {} ({})", caServer->port(), f.trustDomain,
                    f.caFiles.cert.empty() ? "self-signed root in " + (f.caDir.empty() ? defaultCaDir() : f.caDir)
                                           : "plugged-in " + f.caFiles.cert);

  int sig = waitForSignal();
  mesh::log::info("meshd", "signal {}: shutting down", sig);
  jwksResolver.stop();
  meshSource.reset();  // no more MeshConfig pushes
  loop.stop();
  (*debugServer)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpcServer->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (caServer) caServer->shutdown();
  monitoring.stop();
  return 0;
}
