#include "cli/cluster_verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/console.h"
#include "cli/exit_codes.h"
#include "core/yaml/convert.h"
#include "core/yaml/parser.h"

namespace mesh::cli {
namespace {

namespace kube = backends::kube;

// The objects of saved manifests, grouped by their operator.istio.io/component label in install
// order (objects without one go under "Other").
Result<std::vector<install::ComponentManifest>> readManifests(const std::vector<std::string>& files) {
  std::vector<install::ComponentManifest> components;
  for (const auto& path : files) {
    std::string text;
    if (path == "-") {
      std::ostringstream s;
      s << std::cin.rdbuf();
      text = s.str();
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in)
        return fail(ErrorCode::Io, fmt::format("cannot read {}", path), "save one with `meshctl manifest generate > FILE`");
      std::ostringstream s;
      s << in.rdbuf();
      text = s.str();
    }
    core::ParsedFile parsed = core::parseYaml(path, text);
    if (parsed.error) return fail(ErrorCode::InvalidInput, parsed.error->format());
    for (const core::Node* doc : parsed.documents) {
      install::Object object = install::Object::parse(core::toJson(*doc).dump());
      if (!object.is_object() || !object.contains("kind")) continue;
      std::string component = "Other";
      const auto metadata = object.value("metadata", install::Object::object());
      const auto labels = metadata.value("labels", install::Object::object());
      if (labels.contains("operator.istio.io/component") && labels["operator.istio.io/component"].is_string())
        component = labels["operator.istio.io/component"].get<std::string>();
      auto it = std::ranges::find_if(components, [&](const auto& c) { return c.component == component; });
      if (it == components.end()) {
        components.push_back({component, {}});
        it = components.end() - 1;
      }
      it->objects.push_back(std::move(object));
    }
  }
  if (components.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("no Kubernetes objects in {}", files.front()),
                "pass a manifest from `meshctl manifest generate`");
  std::ranges::stable_sort(components, {}, [](const auto& c) { return componentRank(c.component); });
  return components;
}

class ClusterVerifier {
 public:
  ClusterVerifier(kube::KubeClient& client, StatusPrinter& out) : client_(client), out_(out) {}

  void check(const nlohmann::json& object) {
    const std::string title = objectTitle(object);
    auto resource = resourceFor(client_, object);
    if (!resource) return failed(fmt::format("{} is served", title), {resource.error().message});
    const std::string ns = kube::metadataString(object, "namespace");
    const std::string name = kube::metadataString(object, "name");
    auto live = client_.get(*resource, ns, name);
    if (!live) {
      if (live.error().code == ErrorCode::NotFound)
        return failed(fmt::format("{} exists", title),
                      {"it is missing: run `meshctl install` (with the same flags) to create it again"});
      return failed(fmt::format("{} exists", title), {live.error().message, live.error().hint});
    }
    if (auto reason = notReadyReason(*live)) {
      std::string describe = objectKind(object) == "Deployment"
                                 ? fmt::format("see why: kubectl -n {} describe deployment {}", ns, name)
                                 : fmt::format("see why: kubectl describe crd {}", name);
      return failed(fmt::format("{} is ready", title), {*reason, describe});
    }
    out_.ok(hasReadiness(object) ? fmt::format("{} is ready", title) : fmt::format("{} exists", title));
  }

  bool ok() const { return ok_; }

 private:
  void failed(std::string title, std::vector<std::string> hints) {
    std::erase_if(hints, [](const std::string& h) { return h.empty(); });
    out_.fail(title, hints);
    ok_ = false;
  }

  kube::KubeClient& client_;
  StatusPrinter& out_;
  bool ok_ = true;
};

}  // namespace

int printClusterVerification(kube::KubeClient& client, const std::vector<install::ComponentManifest>& components) {
  fmt::print("Checking the install in {}\n\n", client.describe());
  StatusPrinter out(stdout);
  ClusterVerifier verifier(client, out);
  bool first = true;
  for (const auto& c : components) {
    if (!first) out.line("");
    first = false;
    const std::string title = componentTitle(c.component);
    out.line(title);
    out.line(std::string(title.size(), '-'));
    for (const auto& object : c.objects) {
      out.spin(fmt::format("checking {}", objectTitle(plainJson(object))));
      verifier.check(plainJson(object));
    }
  }
  out.line("");
  out.line(verifier.ok() ? "Status check results are ✔" : "Status check results are ✘");
  return verifier.ok() ? kExitOk : kExitUnavailable;
}

int runClusterVerify(const ClusterVerifyOptions& options) {
  std::vector<install::ComponentManifest> components;
  if (!options.manifestFiles.empty()) {
    auto read = readManifests(options.manifestFiles);
    if (!read) return reportError(read.error());
    components = std::move(*read);
  } else {
    auto rendered = renderFromFlags(options.manifest);
    if (!rendered) return reportError(rendered.error());
    components = std::move(rendered->components);
  }
  auto client = connectCluster(options.cluster);
  if (!client) return reportError(client.error());
  return printClusterVerification(**client, components);
}

}  // namespace mesh::cli
