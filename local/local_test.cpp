// Unit tests of the local mesh's pieces that need no long-lived processes: the mesh home and
// its state file, cluster detection, binary lookup, component planning, the config directory
// writes (all or nothing), removal that never follows symlinks, and the bounded log tail. The
// supervisor's identity check runs against a short `sleep`.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "backends/testing/store_test_support.h"
#include "install/operator_config.h"
#include "local/binary_lookup.h"
#include "local/cluster_detect.h"
#include "local/component.h"
#include "local/install_state.h"
#include "local/local_store.h"
#include "local/mesh_home.h"
#include "local/process_supervisor.h"
#include "local/uninstaller.h"

namespace mesh::local {
namespace {

namespace fs = std::filesystem;
using backends::testing::readText;
using backends::testing::TempDir;
using backends::testing::writeFile;

Environment envWith(std::map<std::string, std::string, std::less<>> vars, fs::path home = {}, fs::path self = {}) {
  Environment env;
  env.vars = std::move(vars);
  env.homeDir = std::move(home);
  env.selfExe = std::move(self);
  return env;
}

void makeExecutable(const fs::path& path) {
  writeFile(path, "#!/bin/sh\nexit 0\n");
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
}

// Every file under a directory with its bytes: what "nothing changed" compares.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = readText(e.path());
  return out;
}

nlohmann::json operatorFor(std::vector<std::string> sets) {
  install::OperatorInputs inputs;
  inputs.sets = std::move(sets);
  auto iop = install::buildOperator(inputs, install::ProfileSource::embedded());
  REQUIRE_MESSAGE(iop.has_value(), (iop ? "" : iop.error().message));
  return *iop;
}

constexpr std::string_view kVirtualService = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
)";

constexpr std::string_view kProdService = R"(apiVersion: v1
kind: Service
metadata:
  name: ratings
  namespace: prod
spec:
  ports: [{port: 9080, name: http}]
)";

}  // namespace

TEST_CASE("mesh home: MESH_HOME wins, else ~/.meshctl; the layout under it") {
  auto fromVar = MeshHome::resolve(envWith({{"MESH_HOME", "/srv/mesh/../mesh"}}, "/home/u"));
  REQUIRE(fromVar);
  CHECK(fromVar->root() == "/srv/mesh");
  auto fromHome = MeshHome::resolve(envWith({{"MESH_HOME", ""}}, "/home/u"));
  REQUIRE(fromHome);
  CHECK(fromHome->root() == "/home/u/.meshctl");
  CHECK(fromHome->configDir() == "/home/u/.meshctl/config");
  CHECK(fromHome->pidFile("meshd") == "/home/u/.meshctl/run/meshd.pid");
  CHECK(fromHome->cmdlineFile("meshd") == "/home/u/.meshctl/run/meshd.cmdline");
  CHECK(fromHome->logFile("istio-ingressgateway") == "/home/u/.meshctl/logs/istio-ingressgateway.log");
  CHECK(fromHome->statePath() == "/home/u/.meshctl/state.yaml");
  CHECK_FALSE(MeshHome::resolve(envWith({})).has_value());
}

TEST_CASE("mesh home: create() says whether it made the root, and marks it") {
  TempDir dir;
  MeshHome home(dir / "mesh");
  auto first = home.create();
  REQUIRE(first);
  CHECK(*first);
  CHECK(fs::is_directory(home.configDir()));
  CHECK(fs::is_directory(home.runDir()));
  CHECK(fs::is_directory(home.logsDir()));
  CHECK(fs::exists(home.createdMarker()));
  auto second = home.create();
  REQUIRE(second);
  CHECK_FALSE(*second);

  MeshHome existing(dir.path());  // made by someone else
  auto third = existing.create();
  REQUIRE(third);
  CHECK_FALSE(*third);
  CHECK_FALSE(fs::exists(existing.createdMarker()));
}

TEST_CASE("mesh home: the lock is exclusive and is taken again after its file is removed") {
  TempDir dir;
  MeshHome home(dir.path());
  auto held = HomeLock::acquire(home, std::chrono::milliseconds(0));
  REQUIRE(held);
  bool waited = false;
  auto second = HomeLock::acquire(home, std::chrono::milliseconds(200), [&] { waited = true; });
  CHECK_FALSE(second.has_value());
  CHECK(waited);
  CHECK(second.error().code == ErrorCode::Unavailable);
  // Uninstall removes the lock file while it holds it; the next command must not be stuck on
  // (or fooled by) the old one.
  fs::remove(home.lockPath());
  auto after = HomeLock::acquire(home, std::chrono::milliseconds(0));
  CHECK(after.has_value());
}

TEST_CASE("state file: written atomically, read back the same") {
  TempDir dir;
  InstallState s;
  s.meshctlVersion = "0.1.0";
  s.profile = "demo";
  s.createdHome = true;
  s.installedAt = "2024-05-01T12:00:00Z";
  s.iop = {{"apiVersion", "install.istio.io/v1alpha1"}, {"spec", {{"profile", "demo"}}}};
  ComponentState meshd;
  meshd.name = "meshd";
  meshd.role = "control plane";
  meshd.binary = "/opt/mesh/meshd";
  meshd.args = {"/opt/mesh/meshd", "--config-dir", "/m/config", "--log-level", "info"};
  meshd.pid = 4242;
  meshd.startedAt = "2024-05-01T12:00:00Z";
  meshd.readyUrl = "http://127.0.0.1:15014/ready";
  meshd.ports = {{"xds", 15010}, {"monitoring", 15014}, {"debug", 15015}};
  ComponentState gateway;
  gateway.name = "istio-ingressgateway";
  gateway.role = "ingress gateway";
  gateway.skipped = "this meshproxy build has no data plane yet";
  gateway.ports = {{"admin", 15100}, {"status", 15121}};
  s.components = {meshd, gateway};

  REQUIRE(writeState(dir / "state.yaml", s));
  auto back = readState(dir / "state.yaml");
  REQUIRE_MESSAGE(back.has_value(), (back ? "" : back.error().message));
  CHECK(toJson(*back) == toJson(s));
  REQUIRE(back->find("meshd"));
  CHECK(back->find("meshd")->ports.at("monitoring") == 15014);
  CHECK(back->find("istio-ingressgateway")->skipped == gateway.skipped);
  // No temporary files are left beside it.
  CHECK(snapshot(dir.path()).size() == 1);

  CHECK(readState(dir / "missing.yaml").error().code == ErrorCode::NotFound);
  writeFile(dir / "bad.yaml", "kind: Something\n");
  CHECK(readState(dir / "bad.yaml").error().code == ErrorCode::InvalidInput);
  writeFile(dir / "worse.yaml", "kind: LocalMeshState\ncomponents:\n- name: meshd\n  pid: many\n");
  CHECK(readState(dir / "worse.yaml").error().code == ErrorCode::InvalidInput);
}

TEST_CASE("cluster detection: kubeconfig files, ~/.kube/config and the in-cluster variable") {
  TempDir dir;
  fs::path home = dir / "home";
  fs::create_directories(home);
  CHECK_FALSE(detectCluster(envWith({}, home)).found);

  SUBCASE("~/.kube/config, unless empty") {
    writeFile(home / ".kube/config", "");
    CHECK_FALSE(detectCluster(envWith({}, home)).found);
    writeFile(home / ".kube/config", "apiVersion: v1\nkind: Config\n");
    ClusterConfig c = detectCluster(envWith({}, home));
    CHECK(c.found);
    CHECK(c.where == (home / ".kube/config").string());
    // An empty KUBECONFIG is unset, as kubectl reads it.
    CHECK(detectCluster(envWith({{"KUBECONFIG", ""}}, home)).found);
  }
  SUBCASE("KUBECONFIG replaces ~/.kube/config; missing and empty files in it do not count") {
    writeFile(home / ".kube/config", "apiVersion: v1\nkind: Config\n");
    writeFile(dir / "empty", "");
    std::string list = (dir / "missing").string() + ":" + (dir / "empty").string();
    CHECK_FALSE(detectCluster(envWith({{"KUBECONFIG", list}}, home)).found);
    writeFile(dir / "real", "apiVersion: v1\nkind: Config\n");
    ClusterConfig c = detectCluster(envWith({{"KUBECONFIG", list + ":" + (dir / "real").string()}}, home));
    CHECK(c.found);
    CHECK(c.where == "KUBECONFIG=" + (dir / "real").string());
  }
  SUBCASE("in a pod") {
    ClusterConfig c = detectCluster(envWith({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}, home));
    CHECK(c.found);
    CHECK(c.where == "in-cluster config (KUBERNETES_SERVICE_HOST=10.96.0.1)");
    CHECK_FALSE(detectCluster(envWith({{"KUBERNETES_SERVICE_HOST", ""}}, home)).found);
  }
}

TEST_CASE("binary lookup: flag, variable, beside meshctl, build-tree sibling, PATH") {
  TempDir dir;
  fs::path self = dir / "build/cli/meshctl";
  makeExecutable(self);
  makeExecutable(dir / "build/controlplane/meshd");
  makeExecutable(dir / "bin/meshd");
  makeExecutable(dir / "flag/meshd");
  makeExecutable(dir / "env/meshd");
  std::string path = (dir / "bin").string();

  auto find = [&](std::string flag, std::map<std::string, std::string, std::less<>> vars) {
    vars.emplace("PATH", path);
    return findBinary(meshdSpec(std::move(flag)), envWith(std::move(vars), {}, self));
  };
  CHECK(*find((dir / "flag/meshd").string(), {{"MESHCTL_MESHD", (dir / "env/meshd").string()}}) ==
        dir / "flag/meshd");
  CHECK(*find("", {{"MESHCTL_MESHD", (dir / "env/meshd").string()}}) == dir / "env/meshd");
  CHECK(*find("", {}) == dir / "build/controlplane/meshd");
  makeExecutable(dir / "build/cli/meshd");  // an installed layout: meshd beside meshctl
  CHECK(*find("", {}) == dir / "build/cli/meshd");
  fs::remove(dir / "build/cli/meshd");
  fs::remove(dir / "build/controlplane/meshd");
  CHECK(*find("", {}) == dir / "bin/meshd");

  // A flag or variable naming no program is an error, not a reason to look elsewhere.
  auto badFlag = find((dir / "nope").string(), {});
  REQUIRE_FALSE(badFlag.has_value());
  CHECK(badFlag.error().message == fmt::format("--meshd {}: not an executable file", (dir / "nope").string()));
  writeFile(dir / "notexec/meshd", "data");
  CHECK_FALSE(find("", {{"MESHCTL_MESHD", (dir / "notexec/meshd").string()}}).has_value());

  fs::remove(dir / "bin/meshd");
  auto none = find("", {});
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == ErrorCode::Unavailable);
  CHECK(none.error().message.find((dir / "build/controlplane/meshd").string()) != std::string::npos);
  CHECK(none.error().message.find((dir / "bin/meshd").string()) != std::string::npos);
}

TEST_CASE("components: meshd's flags and ports from values.local; gateways by probe") {
  TempDir dir;
  makeExecutable(dir / "meshd");
  makeExecutable(dir / "meshproxy");
  MeshHome home(dir / "home");
  Environment env = envWith({{"MESHCTL_MESHD", (dir / "meshd").string()},
                             {"MESHCTL_MESHPROXY", (dir / "meshproxy").string()}});
  ComponentInputs inputs;
  std::string probeAnswer = "this meshproxy build has no data plane yet";
  inputs.probe = [&](const fs::path&) { return probeAnswer; };

  auto minimal = planComponents(operatorFor({"profile=minimal", "values.local.monitoringPort=25014"}), home, env, inputs);
  REQUIRE_MESSAGE(minimal.has_value(), (minimal ? "" : minimal.error().message));
  REQUIRE(minimal->size() == 1);
  const Component& meshd = minimal->front();
  CHECK(meshd.name == "meshd");
  CHECK(meshd.argv == std::vector<std::string>{(dir / "meshd").string(), "--config-dir", home.configDir().string(),
                                               "--xds-address", "127.0.0.1:15010", "--monitoring-address",
                                               "127.0.0.1:25014", "--debug-address", "127.0.0.1:15015", "--log-level",
                                               "info", "--root-namespace", "istio-system", "--domain",
                                               "cluster.local", "--ca", "--ca-dir", (home.root() / "ca").string(),
                                               "--ca-address", "127.0.0.1:15012"});
  CHECK(meshd.readyUrl == "http://127.0.0.1:25014/ready");

  auto demo = planComponents(operatorFor({"profile=demo"}), home, env, inputs);
  REQUIRE(demo.has_value());
  REQUIRE(demo->size() == 3);
  const Component& ingress = (*demo)[1];
  CHECK(ingress.name == "istio-ingressgateway");
  CHECK(ingress.skipped == probeAnswer);
  // The start path a meshproxy with a data plane gets: the same flags the manifest's gateway has.
  CHECK(ingress.argv == std::vector<std::string>{(dir / "meshproxy").string(), "--type", "router", "--xds-address",
                                                 "127.0.0.1:15010", "--id",
                                                 "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc."
                                                 "cluster.local",
                                                 "--namespace", "istio-system", "--labels",
                                                 "app=istio-ingressgateway,istio=ingressgateway",
                                                 "--admin-address", "127.0.0.1:15100", "--status-address",
                                                 "127.0.0.1:15121", "--prometheus-address", "127.0.0.1:15190",
                                                 "--ca-address", "127.0.0.1:15012",
                                                 "--ca-root-cert", (home.root() / "ca/ca-cert.pem").string(),
                                                 "--ca-token-file", (home.root() / "ca/token").string()});
  CHECK(ingress.readyUrl == "http://127.0.0.1:15121/healthz/ready");
  CHECK((*demo)[2].port("status") == 15221);
  // Each gateway its own Prometheus port (Istio's 15090 + 100n), or the one values.local names.
  CHECK(ingress.port("prometheus") == 15190);
  CHECK((*demo)[2].port("prometheus") == 15290);
  auto moved = planComponents(
      operatorFor({"profile=demo", "values.local.gateways.istio-egressgateway.prometheusPort=25090"}), home, env, inputs);
  REQUIRE(moved.has_value());
  CHECK((*moved)[2].port("prometheus") == 25090);
  CHECK(std::find((*moved)[2].argv.begin(), (*moved)[2].argv.end(), "127.0.0.1:25090") != (*moved)[2].argv.end());
  auto shared = planComponents(
      operatorFor({"profile=demo", "values.local.gateways.istio-egressgateway.prometheusPort=15190"}), home, env, inputs);
  REQUIRE_FALSE(shared.has_value());
  CHECK(shared.error().message == "spec.values.local.gateways.istio-egressgateway.prometheusPort: port 15190 is "
                                  "also values.local.gateways.istio-ingressgateway.prometheusPort");
  probeAnswer.clear();
  auto serving = planComponents(operatorFor({"profile=demo"}), home, env, inputs);
  REQUIRE(serving.has_value());
  CHECK((*serving)[1].skipped.empty());

  auto clash = planComponents(operatorFor({"profile=minimal", "values.local.debugPort=15010"}), home, env, inputs);
  REQUIRE_FALSE(clash.has_value());
  CHECK(clash.error().message == "spec.values.local.debugPort: port 15010 is also values.local.xdsPort");
  auto zero = planComponents(operatorFor({"profile=minimal", "values.local.xdsPort=0"}), home, env, inputs);
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.error().message == "spec.values.local.xdsPort: 0 is not a port number (1-65535)");
}

TEST_CASE("config directory: apply creates, configures, leaves alone; delete removes") {
  TempDir dir;
  fs::path config = dir / "config";
  fs::create_directories(config);
  auto objects = backends::testing::parseAll(std::string(kVirtualService) + "---\n" + std::string(kProdService));
  auto created = applyToConfigDir(config, objects);
  REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().message));
  REQUIRE(created->size() == 2);
  CHECK((*created)[0].kind == ChangeKind::Created);
  CHECK((*created)[0].file == "default/virtualservice-reviews.yaml");
  CHECK((*created)[1].file == "prod/service-ratings.yaml");
  // The namespace is written out, so the file reads back in the namespace it went to.
  CHECK(readText(config / "default/virtualservice-reviews.yaml").find("namespace: default") != std::string::npos);

  auto again = applyToConfigDir(config, objects);
  REQUIRE(again.has_value());
  CHECK((*again)[0].kind == ChangeKind::Unchanged);
  CHECK((*again)[1].kind == ChangeKind::Unchanged);

  // An object a user put in a file of their own is changed in that file, not copied.
  writeFile(config / "mine.yaml", std::string(kVirtualService) + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n");
  fs::remove(config / "default/virtualservice-reviews.yaml");
  std::string changed(kVirtualService);
  changed.replace(changed.find("hosts: [reviews]"), 16, "hosts: [reviews, ratings]");
  auto configured = applyToConfigDir(config, backends::testing::parseAll(changed));
  REQUIRE(configured.has_value());
  CHECK((*configured)[0].kind == ChangeKind::Configured);
  CHECK((*configured)[0].file == "mine.yaml");
  CHECK(readText(config / "mine.yaml").find("ratings") != std::string::npos);
  CHECK(readText(config / "mine.yaml").find("name: team") != std::string::npos);

  auto deleted = deleteFromConfigDir(config, backends::testing::parseAll(kVirtualService));
  REQUIRE(deleted.has_value());
  CHECK((*deleted)[0].kind == ChangeKind::Deleted);
  CHECK(readText(config / "mine.yaml").find("VirtualService") == std::string::npos);
  auto gone = deleteFromConfigDir(config, backends::testing::parseAll(kVirtualService));
  REQUIRE(gone.has_value());
  CHECK((*gone)[0].kind == ChangeKind::NotFound);
  auto last = deleteFromConfigDir(config, backends::testing::parseAll(kProdService));
  REQUIRE(last.has_value());
  CHECK_FALSE(fs::exists(config / "prod/service-ratings.yaml"));
}

TEST_CASE("config directory: a failure part way changes nothing") {
  TempDir dir;
  fs::path config = dir / "config";
  writeFile(config / "default/virtualservice-reviews.yaml", "# keep\n" + std::string(kVirtualService));
  // A file where the prod namespace's directory would go: writing the second object fails after
  // the first one's file is ready.
  writeFile(config / "prod", "not a directory\n");
  auto before = snapshot(config);
  std::string changed(kVirtualService);
  changed.replace(changed.find("hosts: [reviews]"), 16, "hosts: [reviews, ratings]");
  auto result = applyToConfigDir(config, backends::testing::parseAll(changed + "---\n" + std::string(kProdService)));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("prod") != std::string::npos);
  CHECK(snapshot(config) == before);  // byte for byte, and no temporary files left
}

TEST_CASE("config directory: names that are not file names are refused") {
  TempDir dir;
  fs::path config = dir / "config";
  fs::create_directories(config);
  auto objects = backends::testing::parseAll("apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: ../../x\n");
  auto result = applyToConfigDir(config, objects);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::InvalidInput);
  CHECK(snapshot(config).empty());
}

TEST_CASE("removal never follows a symlink out of the mesh home") {
  TempDir dir;
  writeFile(dir / "outside/precious.txt", "keep me");
  writeFile(dir / "home/logs/meshd.log", "log");
  fs::create_directory_symlink(dir / "outside", dir / "home/logs/link");
  fs::create_symlink(dir / "outside/precious.txt", dir / "home/logs/file-link");
  REQUIRE(removeTreeNoFollow(dir / "home/logs"));
  CHECK_FALSE(fs::exists(dir / "home/logs"));
  CHECK(readText(dir / "outside/precious.txt") == "keep me");
}

TEST_CASE("uninstall plan: what is kept, and the home only when meshctl made it") {
  TempDir dir;
  MeshHome home(dir / "mesh");
  REQUIRE(home.create());
  writeFile(home.logFile("meshd"), "log\n");
  UninstallPlan keep = planUninstall(home, false);
  CHECK(keep.keep == std::vector<fs::path>{home.configDir()});
  CHECK_FALSE(keep.removeHome);
  CHECK(planUninstall(home, true).removeHome);

  MeshHome borrowed(dir.path());  // not made by meshctl
  REQUIRE(borrowed.create());
  UninstallPlan purge = planUninstall(borrowed, true);
  CHECK_FALSE(purge.removeHome);
  CHECK(purge.keepHomeWhy == "meshctl did not create it");
  CHECK(std::ranges::find(purge.remove, borrowed.configDir()) != purge.remove.end());

  TempDir empty;
  CHECK(planUninstall(MeshHome(empty / "none"), true).empty());
}

TEST_CASE("log tail: the last lines, reading a bounded part of the file") {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 1000; ++i) text += fmt::format("line {}\n", i);
  writeFile(dir / "big.log", text);
  auto last = tailFile(dir / "big.log", 3);
  CHECK(last == std::vector<std::string>{"line 998", "line 999", "line 1000"});
  // Only the last 64 bytes are read: whole lines from there, the partial first one dropped.
  auto bounded = tailFile(dir / "big.log", 100, 64);
  CHECK(bounded.size() < 10);
  CHECK(bounded.back() == "line 1000");
  CHECK(bounded.front().starts_with("line 9"));
  CHECK(tailFile(dir / "missing.log", 5).empty());
}

TEST_CASE("supervisor: a process is ours only while its command line matches") {
  TempDir dir;
  MeshHome home(dir.path());
  REQUIRE(home.create());
  ProcessSupervisor supervisor(home);
  CHECK(supervisor.status("sleeper").state == ProcessSupervisor::State::NotStarted);
  std::vector<std::string> argv = {"/bin/sleep", "30"};
  auto pid = supervisor.start("sleeper", argv);
  REQUIRE_MESSAGE(pid.has_value(), (pid ? "" : pid.error().message));
  CHECK(readText(home.pidFile("sleeper")) == fmt::format("{}\n", *pid));
  CHECK(supervisor.status("sleeper").state == ProcessSupervisor::State::Running);
  CHECK(supervisor.recorded() == std::vector<std::string>{"sleeper"});
  // The same pid with another recorded command line is someone else's process: never ours.
  CHECK_FALSE(processMatches(*pid, {"/bin/sleep", "31"}));

  auto stopped = supervisor.stop("sleeper", std::chrono::seconds(5));
  REQUIRE(stopped.has_value());
  CHECK(*stopped == ProcessSupervisor::StopOutcome::Terminated);
  CHECK_FALSE(fs::exists(home.pidFile("sleeper")));
  CHECK_FALSE(processMatches(*pid, argv));

  // A program that cannot be executed fails at start, leaving no pid file.
  auto bad = supervisor.start("nothing", {(dir / "no-such-program").string()});
  REQUIRE_FALSE(bad.has_value());
  CHECK_FALSE(fs::exists(home.pidFile("nothing")));

  // A crashed process: pid file left behind, process gone.
  auto crash = supervisor.start("crasher", {"/bin/sh", "-c", "exit 3"});
  REQUIRE(crash.has_value());
  std::optional<std::string> how;
  for (int i = 0; i < 100 && !how; ++i) {
    how = supervisor.exitStatus(*crash);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(how == std::optional<std::string>("exited with code 3"));
  CHECK(supervisor.status("crasher").state == ProcessSupervisor::State::Stopped);
}

}  // namespace mesh::local
