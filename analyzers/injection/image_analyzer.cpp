// injection.ImageAnalyzer (Istio injection.ImageAnalyzer), IST0158: in namespaces enabled for
// injection, running istio-proxy containers (regular or native sidecar) whose image differs
// from the one the injector ConfigMap of the namespace's revision would inject. The image may
// carry the effective image-type suffix ("-distroless"), resolved like Istio's
// EffectiveProxyConfigResolver: mesh default, root ProxyConfig, namespace ProxyConfig,
// workload ProxyConfig, then the pod's proxy.istio.io/config annotation.
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"
#include "core/yaml/parser.h"

namespace mesh::analysis {
namespace {

std::string_view imageTypeIn(const core::Node* proxyConfig) {
  const core::Node* image = proxyConfig ? proxyConfig->get("image") : nullptr;
  return scalarAt(image, "imageType");
}

class ImageTypeResolver {
 public:
  explicit ImageTypeResolver(const Snapshot& snapshot) {
    if (const nlohmann::json* t =
            jsonAt(snapshot.meshConfig(), {"defaultConfig", "image", "imageType"}))
      if (t->is_string()) meshDefault_ = t->get<std::string>();
    for (const core::Resource* pc : snapshot.all(kinds::ProxyConfig)) {
      const core::Node* spec = pc->spec();
      if (pc->namespace_() == snapshot.rootNamespace())
        root_ = spec;
      else if (!hasKey(spec, "selector"))
        namespace_[std::string(pc->namespace_())] = spec;
      else
        workload_[std::string(pc->namespace_()) + "/" + std::string(pc->name())] = {
            spec, labelsFrom(spec->get("selector") ? spec->get("selector")->get("matchLabels") : nullptr)};
    }
  }

  std::string imageType(const core::Resource& pod) const {
    std::string variant = meshDefault_;
    if (auto t = imageTypeIn(root_); !t.empty()) variant = t;
    if (auto it = namespace_.find(pod.namespace_()); it != namespace_.end())
      if (auto t = imageTypeIn(it->second); !t.empty()) variant = t;
    // Istio compares the "namespace/name" key by prefix (the keys starting with the namespace
    // are one range of the sorted map), and asks whether the pod's labels are contained in the
    // selector's (not the other way round); kept for compatibility.
    auto inRange = [&](auto it) { return it != workload_.end() && it->first.starts_with(pod.namespace_()); };
    if (auto it = workload_.lower_bound(pod.namespace_()); inRange(it)) {
      Labels podLabels = labelsOf(pod);
      for (; inRange(it); ++it) {
        const auto& [spec, matchLabels] = it->second;
        bool contained = true;
        for (const auto& [k, v] : podLabels)
          if (auto m = matchLabels.find(k); m == matchLabels.end() || m->second != v)
            contained = false;
        if (contained)
          if (auto t = imageTypeIn(spec); !t.empty()) variant = t;
      }
    }
    if (std::string_view anno = pod.annotation("proxy.istio.io/config"); !anno.empty()) {
      core::ParsedFile parsed = core::parseYaml("", anno);
      if (!parsed.error && !parsed.documents.empty())
        if (auto t = imageTypeIn(parsed.documents.front()); !t.empty()) variant = t;
    }
    if (variant == "default") variant.clear();
    return variant;
  }

 private:
  std::string meshDefault_;
  const core::Node* root_ = nullptr;
  std::map<std::string, const core::Node*, std::less<>> namespace_;
  struct WorkloadConfig {
    const core::Node* spec;
    Labels matchLabels;
  };
  std::map<std::string, WorkloadConfig, std::less<>> workload_;  // "namespace/name"
};

// The image an injector ConfigMap injects: global.proxy.image when it is a full reference,
// else hub/image:tag (as the injection template does). "" when the values do not parse.
std::string injectedImage(const core::Resource& cm) {
  auto values = injectorValues(cm);
  if (!values || !values->is_object()) return {};
  auto str = [](const nlohmann::json& obj, std::string_view key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  nlohmann::json global = values->value("global", nlohmann::json::object());
  if (!global.is_object()) return {};
  nlohmann::json proxy = global.value("proxy", nlohmann::json::object());
  std::string image = proxy.is_object() ? str(proxy, "image") : std::string();
  if (image.find('/') != std::string::npos) return image;
  return str(global, "hub") + "/" + image + ":" + str(global, "tag");
}

class ImageAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "injection.ImageAnalyzer",
        "Checks the image of auto-injection configured with the running proxies on pods",
        {kinds::Namespace, kinds::Pod, kinds::ConfigMap, kinds::MeshConfig, kinds::ProxyConfig}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    // Keyed by ConfigMap name only, as in Istio: one injector per revision.
    std::map<std::string, std::string, std::less<>> injectorImages;
    for (const core::Resource* cm : snapshot.all(kinds::ConfigMap))
      if (cm->name().starts_with(kInjectorConfigMap))
        injectorImages[std::string(cm->name())] = injectedImage(*cm);
    if (injectorImages.empty()) return;

    std::map<std::string, std::string, std::less<>> revisionOf;  // injected namespace → revision
    std::map<std::string, const core::Resource*, std::less<>> namespaces;
    for (const core::Resource* ns : snapshot.all(kinds::Namespace)) {
      namespaces[std::string(ns->name())] = ns;
      if (hasKey(ns->labels(), kRevisionLabel))
        revisionOf[std::string(ns->name())] = ns->label(kRevisionLabel);
      else if (ns->label(kInjectionLabel) == "enabled")
        revisionOf[std::string(ns->name())] = "default";
    }

    ImageTypeResolver resolver(snapshot);
    std::map<std::string, std::vector<std::string>> mismatched;  // namespace → pod names
    for (const core::Resource* pod : snapshot.all(kinds::Pod)) {
      auto rev = revisionOf.find(pod->namespace_());
      if (rev == revisionOf.end()) continue;
      // A pod that names its own proxy image overrides the injector.
      if (!pod->annotation("sidecar.istio.io/proxyImage").empty()) continue;
      std::string variant = resolver.imageType(*pod);
      for (const core::Node* c : containersOf(pod->spec(), true)) {
        if (scalarAt(c, "name") != kIstioProxyContainer) continue;
        auto expected = injectorImages.find(injectorConfigMapName(rev->second));
        if (expected == injectorImages.end()) break;
        std::string_view image = scalarAt(c, "image");
        if (image != expected->second && image != expected->second + "-" + variant)
          mismatched[std::string(pod->namespace_())].push_back(std::string(pod->name()));
      }
    }
    for (const auto& [ns, pods] : mismatched)
      reporter.report(messageType("PodsIstioProxyImageMismatchInNamespace"), *namespaces.at(ns),
                      {pods});
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeInjectionImageAnalyzer() { return std::make_unique<ImageAnalyzer>(); }

}  // namespace mesh::analysis
