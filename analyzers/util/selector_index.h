// The reverse of selectPods(): given a pod's labels, which plain-map selectors (Service
// spec.selector, a policy's matchLabels; labels.SelectorFromSet) in its namespace select it.
// Each selector is filed under its first requirement, so a lookup costs the pod's labels and
// the selectors filed there, not every selector. Built per analyzer run; read-only afterwards.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "analyzers/snapshot.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {

class SelectorIndex {
 public:
  // Files `owner`'s selector, a `key: value` map (empty or missing: selects everything), as
  // one that applies in namespace `ns`.
  void add(std::string_view ns, const core::Resource* owner, const core::Node* selectorMap);

  // The owners in `ns` whose selector selects `labels` (a labels mapping, read as labelsFrom()
  // reads it), in the order they were added; those with an empty selector only when
  // `withEmpty`.
  std::vector<const core::Resource*> selecting(std::string_view ns, const core::Node* labels,
                                               bool withEmpty) const;

 private:
  struct Entry {
    const core::Resource* owner;
    LabelSelector selector;
  };
  std::vector<Entry> entries_;
  // (namespace, key, value) of a selector's first requirement → entries_ positions.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<size_t>, std::less<>> byFirst_;
  std::map<std::string, std::vector<size_t>, std::less<>> emptyByNamespace_;
};

// Every Service's spec.selector, filed under the Service's namespace (Services select pods of
// their own namespace only).
SelectorIndex serviceSelectors(const Snapshot& snapshot);

}  // namespace mesh::analysis
