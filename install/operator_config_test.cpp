#include "install/operator_config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/version.h"

using mesh::install::buildOperator;
using mesh::install::loadProfile;
using mesh::install::OperatorInputs;
using mesh::install::ProfileSource;
using nlohmann::json;

namespace {

// A file in a fresh temporary directory, removed with it.
struct TempFile {
  explicit TempFile(const std::string& content, const std::string& name = "overlay.yaml") {
    dir = std::filesystem::temp_directory_path() /
          ("meshctl-install-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    path = (dir / name).string();
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string path;
  static inline int counter = 0;
};

const json& at(const json& j, std::initializer_list<const char*> keys) {
  const json* n = &j;
  for (const char* k : keys) n = &(*n)[k];
  return *n;
}

}  // namespace

TEST_CASE("every built-in profile loads and is merged over default") {
  ProfileSource profiles = ProfileSource::embedded();
  CHECK(profiles.names() == std::vector<std::string>{"ambient", "default", "demo", "empty", "minimal", "remote"});
  for (const auto& name : profiles.names()) {
    INFO(name);
    auto p = loadProfile(name, profiles);
    REQUIRE_MESSAGE(p, p.error().message);
    CHECK(at(*p, {"spec", "profile"}) == name);
    // Everything default sets is there unless the profile changed it.
    CHECK(at(*p, {"spec", "values", "global", "hub"}) == "ghcr.io/meshctl");
    CHECK(at(*p, {"spec", "values", "global", "tag"}) == std::string(mesh::kVersion));
  }
  auto demo = loadProfile("demo", profiles);
  CHECK(at(*demo, {"spec", "components", "base", "enabled"}) == true);  // from default
  CHECK(at(*demo, {"spec", "meshConfig", "accessLogFile"}) == "/dev/stdout");
  CHECK(at(*demo, {"spec", "components", "egressGateways"})[0]["enabled"] == true);
  // Merged by name: demo's ingress gateway keeps default's limits and adds its own requests.
  json ingress = at(*demo, {"spec", "components", "ingressGateways"})[0];
  CHECK(ingress["k8s"]["resources"]["limits"]["cpu"] == "2000m");
  CHECK(ingress["k8s"]["resources"]["requests"]["cpu"] == "10m");
  auto empty = loadProfile("empty", profiles);
  CHECK(at(*empty, {"spec", "components", "pilot", "enabled"}) == false);
  CHECK(at(*empty, {"spec", "components", "base", "enabled"}) == false);
}

TEST_CASE("the profile comes from --set profile=, else the last file's spec.profile") {
  ProfileSource profiles = ProfileSource::embedded();
  TempFile overlay("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: minimal\n");
  OperatorInputs in;
  in.files = {overlay.path};
  auto iop = buildOperator(in, profiles);
  REQUIRE(iop);
  CHECK(at(*iop, {"spec", "profile"}) == "minimal");
  in.sets = {"profile=demo", "values.global.hub=registry.example.com/mesh"};
  iop = buildOperator(in, profiles);
  REQUIRE(iop);
  CHECK(at(*iop, {"spec", "profile"}) == "demo");
  CHECK(at(*iop, {"spec", "values", "global", "hub"}) == "registry.example.com/mesh");
  CHECK(at(*iop, {"spec", "meshConfig", "accessLogFile"}) == "/dev/stdout");

  OperatorInputs conflict;
  conflict.profile = "demo";
  conflict.files = {overlay.path};
  auto c = buildOperator(conflict, profiles);
  REQUIRE_FALSE(c);
  CHECK(c.error().message == "profile demo is given twice: as an argument and as minimal");

  OperatorInputs unknown;
  unknown.sets = {"profile=nope"};
  auto u = buildOperator(unknown, profiles);
  REQUIRE_FALSE(u);
  CHECK(u.error().message == "unknown profile \"nope\"");
}

TEST_CASE("overlay files are checked on their own, with file, line and field") {
  ProfileSource profiles = ProfileSource::embedded();
  TempFile bad(R"(apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  components:
    pilot:
      k8s:
        replicaCount: "two"
    ingressGatewayz: []
)");
  OperatorInputs in;
  in.files = {bad.path};
  auto iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().code == mesh::ErrorCode::InvalidInput);
  CHECK(iop.error().message ==
        bad.path + " is not a valid IstioOperator:\n\t* " + bad.path +
            ":7:23: spec.components.pilot.k8s.replicaCount: expected integer, found string\n\t* " + bad.path +
            ":8:5: spec.components: unknown field \"ingressGatewayz\" (did you mean \"ingressGateways\"?)");

  TempFile wrongKind("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  in.files = {wrongKind.path};
  iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().message.find(wrongKind.path + ":2:7: kind: expected IstioOperator, found \"ConfigMap\"") !=
        std::string::npos);

  TempFile two(
      "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n---\napiVersion: install.istio.io/v1alpha1\n"
      "kind: IstioOperator\n");
  in.files = {two.path};
  iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().message == two.path + ":4:1: one IstioOperator per file: this is document 2 of 2");
}

TEST_CASE("the merged spec is checked as a whole") {
  ProfileSource profiles = ProfileSource::embedded();
  OperatorInputs in;
  in.sets = {"components.ingressGateways[1].name=istio-ingressgateway", "components.ingressGateways[1].enabled=true"};
  auto iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().message ==
        "the merged IstioOperator is not valid:\n\t* spec.components.ingressGateways[1].name: gateway "
        "istio-system/istio-ingressgateway is also defined at spec.components.ingressGateways[0]");

  in.sets = {"values.pilot.autoscaleMin=4", "values.pilot.autoscaleMax=2"};
  iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().message ==
        "the merged IstioOperator is not valid:\n\t* spec.values.pilot.autoscaleMax: 2 is below autoscaleMin (4)");

  in.sets = {"revision=Canary_1"};
  iop = buildOperator(in, profiles);
  REQUIRE_FALSE(iop);
  CHECK(iop.error().message.find("spec.revision: \"Canary_1\" is not a valid name") != std::string::npos);
}

TEST_CASE("--manifests DIR replaces the built-in profiles") {
  TempFile def("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  hub: my.registry/mesh\n",
               "default.yaml");
  std::ofstream((def.dir / "custom.yaml").string())
      << "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  tag: custom\n";
  auto profiles = ProfileSource::directory(def.dir.string());
  REQUIRE(profiles);
  CHECK(profiles->names() == std::vector<std::string>{"custom", "default"});
  auto p = loadProfile("custom", *profiles);
  REQUIRE(p);
  CHECK(at(*p, {"spec", "hub"}) == "my.registry/mesh");
  CHECK(at(*p, {"spec", "tag"}) == "custom");

  auto none = ProfileSource::directory((def.dir / "missing").string());
  REQUIRE_FALSE(none);
}
