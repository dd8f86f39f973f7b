#include "install/manifest.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/loader.h"
#include "install/crd.h"
#include "install/meshd_access.h"
#include "install/operator_config.h"

using mesh::install::ComponentManifest;
using mesh::install::Object;
using nlohmann::json;

namespace {

std::vector<ComponentManifest> render(std::vector<std::string> sets = {}) {
  mesh::install::OperatorInputs in;
  in.sets = std::move(sets);
  auto iop = mesh::install::buildOperator(in, mesh::install::ProfileSource::embedded());
  REQUIRE_MESSAGE(iop, iop.error().message);
  auto m = mesh::install::renderManifests(*iop);
  REQUIRE_MESSAGE(m, m.error().message);
  return *m;
}

std::vector<Object> all(const std::vector<ComponentManifest>& ms) {
  std::vector<Object> out;
  for (const auto& m : ms) out.insert(out.end(), m.objects.begin(), m.objects.end());
  return out;
}

const Object* find(const std::vector<Object>& objects, std::string_view kind, std::string_view name) {
  for (const auto& o : objects)
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  return nullptr;
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("rendering is deterministic and the stream reads back as the same objects") {
  std::string a = mesh::install::manifestText(render({"profile=demo"}));
  std::string b = mesh::install::manifestText(render({"profile=demo"}));
  CHECK(a == b);
  // meshctl's own loader reads it back: every document is a Kubernetes object with a name.
  auto loaded = mesh::core::loadBuffer("manifest.yaml", a, {});
  CHECK(loaded.diagnostics.empty());
  CHECK(loaded.resources.size() == all(render({"profile=demo"})).size());
}

TEST_CASE("components, their order, and the labels uninstall finds objects by") {
  auto ms = render();
  std::vector<std::string> names;
  for (const auto& m : ms) names.push_back(m.component);
  CHECK(names == std::vector<std::string>{"Base", "Pilot", "IngressGateways"});
  // CRDs first, then the namespace, then what lives in it.
  CHECK(ms[0].objects.front()["kind"] == "CustomResourceDefinition");
  auto objects = all(ms);
  size_t firstNamespaced = 0;
  while (objects[firstNamespaced]["metadata"].contains("namespace") == false) ++firstNamespaced;
  CHECK(objects[firstNamespaced - 1]["kind"] == "Namespace");
  for (const auto& m : ms) {
    for (const auto& o : m.objects) {
      INFO(o["kind"].get<std::string>(), " ", o["metadata"]["name"].get<std::string>());
      const auto& labels = o["metadata"]["labels"];
      CHECK(labels["app.kubernetes.io/managed-by"] == "meshctl");
      CHECK(labels["install.operator.istio.io/owning-resource"] == "installed-state");
      CHECK(labels["operator.istio.io/component"] == m.component);
      CHECK(labels["istio.io/rev"] == "default");
    }
  }
}

TEST_CASE("every Istio kind meshd serves has a CRD, with v1 stored where served") {
  auto objects = all(render());
  for (const auto* kind : mesh::install::istioKinds()) {
    std::string name = std::string(kind->plural) + "." + std::string(kind->group);
    INFO(name);
    const Object* crd = find(objects, "CustomResourceDefinition", name);
    REQUIRE(crd);
    const auto& versions = (*crd)["spec"]["versions"];
    CHECK(versions.size() == kind->versions.size());
    int stored = 0;
    for (const auto& v : versions) {
      stored += v["storage"].get<bool>() ? 1 : 0;
      if (v["storage"].get<bool>() && kind->servesVersion("v1")) CHECK(v["name"] == "v1");
      CHECK(v["subresources"]["status"].is_object());
      CHECK(v["schema"]["openAPIV3Schema"]["properties"].contains("spec"));
    }
    CHECK(stored == 1);
  }
  for (std::string_view k :
       {"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "WorkloadEntry", "WorkloadGroup", "Sidecar",
        "EnvoyFilter", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "Telemetry"}) {
    bool present = false;
    for (const auto* kind : mesh::install::istioKinds()) present = present || kind->kind == k;
    CHECK_MESSAGE(present, k);
  }
}

TEST_CASE("RBAC is least privilege: read-only verbs on named resources, never a wildcard") {
  auto objects = all(render({"values.global.multiCluster.enabled=true"}));
  int roles = 0;
  for (const auto& o : objects) {
    if (o["kind"] != "ClusterRole" && o["kind"] != "Role") continue;
    ++roles;
    for (const auto& rule : o["rules"]) {
      for (const char* field : {"apiGroups", "resources", "verbs"})
        for (const auto& v : rule[field]) CHECK(v.get<std::string>().find('*') == std::string::npos);
      CHECK(rule["verbs"] == Object::array({"get", "list", "watch"}));
    }
  }
  CHECK(roles == 3);  // meshd's ClusterRole, its Role for secrets and configmaps, the reader account's
  // Secrets and ConfigMaps are readable only through the namespaced Role, in meshd's own namespace.
  for (const auto& o : objects)
    for (const auto& rule : o.value("rules", Object::array()))
      for (const auto& r : rule["resources"])
        if (r == "secrets" || r == "configmaps") {
          CHECK(o["kind"] == "Role");
          CHECK(o["metadata"]["namespace"] == "istio-system");
        }
  // Every resource named is one of the kinds table's plurals.
  std::set<std::string> plurals;
  for (const auto* k : mesh::install::meshdReadKinds()) plurals.insert(std::string(k->plural));
  for (const auto& rule : mesh::install::meshdReadRules())
    for (const auto& r : rule["resources"]) CHECK(plurals.contains(r.get<std::string>()));
  CHECK_FALSE(plurals.contains("secrets"));
  CHECK(plurals.contains("nodes"));  // pod locality from the Node's topology labels
}

TEST_CASE("images follow values.global.hub and tag, spec.hub/tag and per-component overrides") {
  auto images = [](const std::vector<ComponentManifest>& ms) {
    std::set<std::string> out;
    for (const auto& o : all(ms))
      if (o["kind"] == "Deployment")
        for (const auto& c : o["spec"]["template"]["spec"]["containers"]) out.insert(c["image"].get<std::string>());
    return out;
  };
  CHECK(images(render({"values.global.hub=r.example/m", "values.global.tag=9.9"})) ==
        std::set<std::string>{"r.example/m/meshd:9.9", "r.example/m/meshproxy:9.9"});
  CHECK(images(render({"values.global.hub=r.example/m", "hub=spec.example", "components.pilot.tag=p1"})) ==
        std::set<std::string>{"spec.example/meshd:p1", "spec.example/meshproxy:0.1.0"});
}

TEST_CASE("meshd: flags, probe, replicas, PDB and autoscaling follow the values") {
  auto objects = all(render());
  const Object* d = find(objects, "Deployment", "meshd");
  REQUIRE(d);
  const auto& c = (*d)["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["args"] == Object::array({"--xds-address=0.0.0.0:15010", "--monitoring-address=0.0.0.0:15014",
                                    "--log-level=info", "--root-namespace=istio-system", "--domain=cluster.local",
                                    "--meshConfig=/etc/istio/config/mesh"}));
  CHECK(c["readinessProbe"]["httpGet"] == Object{{"path", "/ready"}, {"port", 15014}});
  CHECK_FALSE((*d)["spec"].contains("replicas"));  // the default profile autoscales
  CHECK(find(objects, "HorizontalPodAutoscaler", "meshd"));
  CHECK(find(objects, "PodDisruptionBudget", "meshd"));
  const Object* cm = find(objects, "ConfigMap", "istio");
  REQUIRE(cm);
  CHECK((*cm)["data"]["mesh"].get<std::string>().find("rootNamespace: istio-system\n") != std::string::npos);

  objects = all(render({"profile=demo", "values.global.logging.level=default:warning,ads:debug"}));
  d = find(objects, "Deployment", "meshd");
  CHECK((*d)["spec"]["replicas"] == 1);
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0]["args"][2] == "--log-level=warn");
  CHECK_FALSE(find(objects, "HorizontalPodAutoscaler", "meshd"));
  CHECK_FALSE(find(objects, "PodDisruptionBudget", "meshd"));  // one pod: a budget would block drains
  objects = all(render({"profile=demo", "components.pilot.k8s.replicaCount=2"}));
  CHECK(find(objects, "PodDisruptionBudget", "meshd"));
  // Istio's CLUSTER_ID, from the multi-cluster values: remote secrets naming it are skipped.
  objects = all(render({"values.global.multiCluster.clusterName=east"}));
  d = find(objects, "Deployment", "meshd");
  REQUIRE(d);
  CHECK((*d)["spec"]["template"]["spec"]["containers"][0]["args"].back() == "--cluster-id=east");
}

TEST_CASE("gateways: Istio's names, labels and ports, k8s overrides, xDS address") {
  auto objects = all(render({"components.ingressGateways[0].k8s.serviceAnnotations.a\\.b/c=d",
                             "components.ingressGateways[0].k8s.service.ports[0].port=8080",
                             "components.ingressGateways[0].k8s.service.ports[0].name=http",
                             "values.global.remotePilotAddress=10.0.0.5"}));
  const Object* svc = find(objects, "Service", "istio-ingressgateway");
  REQUIRE(svc);
  CHECK((*svc)["spec"]["type"] == "LoadBalancer");
  CHECK((*svc)["spec"]["selector"] == Object{{"app", "istio-ingressgateway"}, {"istio", "ingressgateway"}});
  CHECK((*svc)["metadata"]["annotations"]["a.b/c"] == "d");
  CHECK((*svc)["spec"]["ports"] ==
        Object::array({Object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}, {"targetPort", 8080}}}));
  const Object* d = find(objects, "Deployment", "istio-ingressgateway");
  REQUIRE(d);
  const auto& pod = (*d)["spec"]["template"]["spec"];
  CHECK(pod["automountServiceAccountToken"] == false);
  CHECK(pod["containers"][0]["args"][1] == "--xds-address=10.0.0.5:15010");
  CHECK(pod["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/healthz/ready");

  // The default service ports, when the gateway names none.
  objects = all(render());
  svc = find(objects, "Service", "istio-ingressgateway");
  std::vector<std::string> ports;
  for (const auto& p : (*svc)["spec"]["ports"])
    ports.push_back(
        fmt::format("{}:{}->{}", p["name"].get<std::string>(), p["port"].get<int>(), p["targetPort"].get<int>()));
  CHECK(ports == std::vector<std::string>{"status-port:15021->15021", "http2:80->8080", "https:443->8443"});
}

TEST_CASE("autoscale bounds from hpaSpec and values must agree") {
  mesh::install::OperatorInputs in;
  in.sets = {"components.pilot.k8s.hpaSpec.maxReplicas=0"};
  auto iop = mesh::install::buildOperator(in, mesh::install::ProfileSource::embedded());
  REQUIRE(iop);
  auto m = mesh::install::renderManifests(*iop);
  REQUIRE_FALSE(m);
  CHECK(m.error().message ==
        "components.pilot.k8s.hpaSpec.maxReplicas / values.pilot.autoscaleMax: 0 is below the minimum, 1");
}

TEST_CASE("components meshctl has no program for are refused by name") {
  mesh::install::OperatorInputs in;
  in.sets = {"profile=ambient"};
  auto iop = mesh::install::buildOperator(in, mesh::install::ProfileSource::embedded());
  REQUIRE(iop);  // the profile itself is valid: it can be dumped and compared
  auto m = mesh::install::renderManifests(*iop);
  REQUIRE_FALSE(m);
  CHECK(m.error().message.find("spec.components.ztunnel.enabled: meshctl has no ztunnel") != std::string::npos);
}

TEST_CASE("-o DIR: one file per component, replaced atomically, stale components removed") {
  auto dir = std::filesystem::temp_directory_path() / ("meshctl-manifest-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto demo = render({"profile=demo"});
  auto written = mesh::install::writeManifestDir(dir.string(), demo);
  REQUIRE(written);
  CHECK(written->size() == 4);
  CHECK(readFile(dir / "Pilot" / "Pilot.yaml") == mesh::install::componentText(demo[1]));
  auto minimal = render({"profile=minimal"});
  REQUIRE(mesh::install::writeManifestDir(dir.string(), minimal));
  CHECK_FALSE(std::filesystem::exists(dir / "EgressGateways"));
  CHECK_FALSE(std::filesystem::exists(dir / "IngressGateways"));
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"Base", "Base.yaml", "Pilot", "Pilot.yaml"});  // no temporary files

  // A component directory that cannot be made: nothing is replaced.
  std::string before = readFile(dir / "Base" / "Base.yaml");
  std::ofstream((dir / "IngressGateways").string()) << "a file in the way\n";
  auto failed = mesh::install::writeManifestDir(dir.string(), demo);
  REQUIRE_FALSE(failed);
  CHECK(readFile(dir / "Base" / "Base.yaml") == before);
  CHECK(readFile(dir / "Pilot" / "Pilot.yaml") == mesh::install::componentText(minimal[1]));
  std::filesystem::remove_all(dir);
}
