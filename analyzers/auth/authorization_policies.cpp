// auth.AuthorizationPoliciesAnalyzer: an AuthorizationPolicy should apply to some in-mesh
// workload (IST0127) — in the root namespace a selector is checked against pods of the whole
// mesh and a selector-less policy is always fine; elsewhere against pods of the policy's
// namespace. Namespaces named by rules' source.namespaces/notNamespaces (with a leading or
// trailing "*" wildcard) must match an existing Namespace (IST0101).
#include <cctype>
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

bool present(const core::Node* n) { return n && !n->isNull(); }

bool equalFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Istio's namespaceMatch.
bool namespaceMatches(std::string_view ns, std::string_view pattern) {
  if (pattern == "*") return true;
  if (pattern.starts_with("*")) return ns.ends_with(pattern.substr(1));
  if (pattern.ends_with("*")) return ns.starts_with(pattern.substr(0, pattern.size() - 1));
  return equalFold(ns, pattern);
}

bool hasIstioProxy(const core::Resource& pod) {
  const core::Node* spec = pod.spec();
  if (!spec) return false;
  for (std::string_view list : {"containers", "initContainers"}) {
    const core::Node* containers = spec->get(list);
    if (!containers) continue;
    for (const core::Node* c : containers->items()) {
      const core::Node* name = c->get("name");
      if (!name || name->text() != "istio-proxy") continue;
      // Istio takes the first istio-proxy container and requires an image on it.
      const core::Node* image = c->get("image");
      return image && !image->text().empty();
    }
  }
  return false;
}

// Istio's util.PodInMesh: a proxy container, else the pod's sidecar.istio.io/inject label or
// annotation, else the namespace's istio-injection=enabled label.
bool podInMesh(const Snapshot& snapshot, const core::Resource& pod) {
  if (hasIstioProxy(pod)) return true;
  for (const core::Node* meta : {pod.labels(), pod.annotations()}) {
    const core::Node* inject = meta ? meta->get("sidecar.istio.io/inject") : nullptr;
    if (inject) return inject->text() == "true";
  }
  if (const core::Resource* ns = snapshot.find(kinds::Namespace, "", pod.namespace_()))
    return ns->label("istio-injection") == "enabled";
  return false;
}

bool podInAmbient(const core::Resource& pod) { return pod.annotation("ambient.istio.io/redirection") == "enabled"; }

class AuthorizationPoliciesAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"auth.AuthorizationPoliciesAnalyzer",
                                    "Checks the validity of authorization policies",
                                    {kinds::MeshConfig, kinds::AuthorizationPolicy, kinds::Namespace, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<std::string_view, std::vector<Labels>> meshPods;  // in-mesh pod labels by namespace
    for (const core::Resource* pod : snapshot.all(kinds::Pod))
      if (podInMesh(snapshot, *pod) || podInAmbient(*pod)) meshPods[pod->namespace_()].push_back(labelsOf(*pod));

    for (const core::Resource* ap : snapshot.all(kinds::AuthorizationPolicy)) {
      checkWorkloads(snapshot, *ap, meshPods, reporter);
      checkNamespaces(snapshot, *ap, reporter);
    }
  }

 private:
  static bool anyMatch(const LabelSelector& sel, const std::vector<Labels>& pods) {
    for (const Labels& l : pods)
      if (sel.matches(l)) return true;
    return false;
  }

  static void checkWorkloads(const Snapshot& snapshot, const core::Resource& ap,
                             const std::map<std::string_view, std::vector<Labels>>& meshPods, Reporter& reporter) {
    const core::Node* spec = ap.spec();
    const core::Node* selector = spec ? spec->get("selector") : nullptr;
    const MessageType& noWorkloads = messageType("NoMatchingWorkloadsFound");
    auto inNamespace = meshPods.find(ap.namespace_());

    if (ap.namespace_() == snapshot.rootNamespace()) {
      if (!present(selector)) return;  // mesh-wide and selector-less: applies everywhere
      LabelSelector sel = LabelSelector::fromSet(selector->get("matchLabels"));
      bool found = false;
      for (const auto& [ns, pods] : meshPods) found = found || anyMatch(sel, pods);
      if (!found) reporter.report(noWorkloads, ap, {sel.toString()}, selector);
      return;
    }
    if (!present(selector)) {
      if (inNamespace == meshPods.end() || inNamespace->second.empty())
        reporter.report(noWorkloads, ap, {std::string()});
      return;
    }
    LabelSelector sel = LabelSelector::fromSet(selector->get("matchLabels"));
    if (inNamespace == meshPods.end() || !anyMatch(sel, inNamespace->second))
      reporter.report(noWorkloads, ap, {sel.toString()}, selector);
  }

  static void checkNamespaces(const Snapshot& snapshot, const core::Resource& ap, Reporter& reporter) {
    const core::Node* spec = ap.spec();
    const core::Node* rules = spec ? spec->get("rules") : nullptr;
    if (!rules) return;
    for (const core::Node* rule : rules->items()) {
      const core::Node* from = rule->get("from");
      if (!from) continue;
      for (const core::Node* f : from->items()) {
        const core::Node* source = f->get("source");
        if (!source) continue;
        for (std::string_view field : {"namespaces", "notNamespaces"}) {
          const core::Node* list = source->get(field);
          if (!list) continue;
          for (const core::Node* item : list->items()) {
            std::string_view pattern = item->text();
            bool found = false;
            for (const core::Resource* ns : snapshot.all(kinds::Namespace))
              if (namespaceMatches(ns->name(), pattern)) {
                found = true;
                break;
              }
            if (!found)
              reporter.report(messageType("ReferencedResourceNotFound"), ap,
                              {std::string("namespace"), std::string(pattern)}, item);
          }
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeAuthorizationPoliciesAnalyzer() {
  return std::make_unique<AuthorizationPoliciesAnalyzer>();
}

}  // namespace mesh::analysis
