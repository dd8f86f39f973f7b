// auth.AuthorizationPoliciesAnalyzer: an AuthorizationPolicy should apply to some in-mesh
// workload (IST0127) — in the root namespace a selector is checked against pods of the whole
// mesh and a selector-less policy is always fine; elsewhere against pods of the policy's
// namespace. Namespaces named by rules' source.namespaces/notNamespaces (with a leading or
// trailing "*" wildcard) must match an existing Namespace (IST0101).
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <unordered_set>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

bool present(const core::Node* n) { return n && !n->isNull(); }

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The workloads a policy may apply to: pods in the mesh by sidecar or ambient redirection.
class MeshPods {
 public:
  explicit MeshPods(const Snapshot& snapshot) : snapshot_(snapshot) {
    for (const core::Resource* pod : snapshot.all(kinds::Pod))
      if (podInMesh(snapshot, *pod) || podInAmbient(*pod)) {
        pods_.insert(pod);
        namespaces_.insert(pod->namespace_());
      }
  }

  bool anyIn(std::string_view ns) const { return namespaces_.contains(ns); }

  // Whether `sel` selects a mesh pod in `ns`, or anywhere when `ns` is nullopt.
  bool anySelected(const LabelSelector& sel, std::optional<std::string_view> ns) const {
    if (sel.empty()) return ns ? anyIn(*ns) : !pods_.empty();
    for (const core::Resource* pod : podCandidates(snapshot_, sel, ns))
      if (pods_.contains(pod) && sel.matches(*pod)) return true;
    return false;
  }

 private:
  const Snapshot& snapshot_;
  std::unordered_set<const core::Resource*> pods_;
  std::set<std::string_view> namespaces_;
};

// The Namespaces' names, to answer Istio's namespaceMatch for a pattern without comparing it
// with each: exact (case-insensitive), "prefix*", "*suffix" or "*".
class NamespaceNames {
 public:
  explicit NamespaceNames(const Snapshot& snapshot) {
    for (const core::Resource* ns : snapshot.all(kinds::Namespace)) {
      std::string_view name = ns->name();
      sorted_.emplace_back(name);
      reversed_.emplace_back(name.rbegin(), name.rend());
      folded_.insert(lower(name));
    }
    std::sort(sorted_.begin(), sorted_.end());
    std::sort(reversed_.begin(), reversed_.end());
  }

  bool anyMatches(std::string_view pattern) const {
    if (pattern == "*") return !sorted_.empty();
    if (pattern.starts_with("*")) return anyStartsWith(reversed_, std::string(pattern.rbegin(), pattern.rend() - 1));
    if (pattern.ends_with("*")) return anyStartsWith(sorted_, pattern.substr(0, pattern.size() - 1));
    return folded_.contains(lower(pattern));
  }

 private:
  static bool anyStartsWith(const std::vector<std::string>& sorted, std::string_view prefix) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), prefix);
    return it != sorted.end() && it->starts_with(prefix);
  }

  std::vector<std::string> sorted_;
  std::vector<std::string> reversed_;  // each name reversed, sorted: for suffixes
  std::set<std::string> folded_;       // lower-cased
};

class AuthorizationPoliciesAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"auth.AuthorizationPoliciesAnalyzer",
                                    "Checks the validity of authorization policies",
                                    {kinds::MeshConfig, kinds::AuthorizationPolicy, kinds::Namespace, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    MeshPods meshPods(snapshot);
    NamespaceNames namespaces(snapshot);
    for (const core::Resource* ap : snapshot.all(kinds::AuthorizationPolicy)) {
      checkWorkloads(snapshot, *ap, meshPods, reporter);
      checkNamespaces(*ap, namespaces, reporter);
    }
  }

 private:
  static void checkWorkloads(const Snapshot& snapshot, const core::Resource& ap, const MeshPods& meshPods,
                             Reporter& reporter) {
    const core::Node* spec = ap.spec();
    const core::Node* selector = spec ? spec->get("selector") : nullptr;
    const MessageType& noWorkloads = messageType("NoMatchingWorkloadsFound");

    if (ap.namespace_() == snapshot.rootNamespace()) {
      if (!present(selector)) return;  // mesh-wide and selector-less: applies everywhere
      LabelSelector sel = LabelSelector::fromSet(selector->get("matchLabels"));
      if (!meshPods.anySelected(sel, std::nullopt)) reporter.report(noWorkloads, ap, {sel.toString()}, selector);
      return;
    }
    if (!present(selector)) {
      if (!meshPods.anyIn(ap.namespace_())) reporter.report(noWorkloads, ap, {std::string()});
      return;
    }
    LabelSelector sel = LabelSelector::fromSet(selector->get("matchLabels"));
    if (!meshPods.anySelected(sel, ap.namespace_())) reporter.report(noWorkloads, ap, {sel.toString()}, selector);
  }

  static void checkNamespaces(const core::Resource& ap, const NamespaceNames& namespaces, Reporter& reporter) {
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
            if (!namespaces.anyMatches(pattern))
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
