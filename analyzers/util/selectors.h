// Kubernetes label selectors for analyzers: plain `key: value` maps (labels.SelectorFromSet)
// and metav1.LabelSelector (matchLabels + matchExpressions with In, NotIn, Exists,
// DoesNotExist). Shared by every analyzer that asks "which pods does this select?", which
// selectPods() answers from the Snapshot's label index rather than by scanning every pod.
// Pure functions and immutable values; any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/snapshot.h"
#include "core/resource.h"

namespace mesh::analysis {

using Labels = std::map<std::string, std::string, std::less<>>;

// A mapping node of string values as Labels; non-mappings give an empty set.
Labels labelsFrom(const core::Node* mapping);
// A resource's metadata.labels.
Labels labelsOf(const core::Resource& r);
// The value labelsFrom(mapping) would hold for `key`, without building the map; nullopt when
// the key is absent.
std::optional<std::string_view> labelValue(const core::Node* mapping, std::string_view key);

class LabelSelector {
 public:
  enum class Op { Equals, In, NotIn, Exists, DoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::Equals;
    std::vector<std::string> values;  // sorted, as Kubernetes keeps them

    // Whether a label set holding `value` under `key` (nullopt: no such label) satisfies it.
    bool satisfiedBy(std::optional<std::string_view> value) const;
  };

  // labels.SelectorFromSet: every pair must be present. A missing or empty map selects
  // everything (callers that treat "no selector" specially check empty() first).
  static LabelSelector fromSet(const core::Node* map);
  static LabelSelector fromSet(const Labels& set);
  // metav1.LabelSelectorAsSelector: a missing selector selects nothing, `{}` everything.
  static LabelSelector fromLabelSelector(const core::Node* selector);

  bool matches(const Labels& labels) const;
  // A labels mapping node, read as labelsFrom() reads it.
  bool matches(const core::Node* labels) const;
  bool matches(const core::Resource& r) const { return matches(r.labels()); }
  // Labels given as a lookup: valueOf(key) is the label's value, or nullopt when absent.
  template <typename Lookup>
  bool matchesLookup(Lookup&& valueOf) const {
    if (nothing_) return false;
    for (const Requirement& r : requirements_)
      if (!r.satisfiedBy(valueOf(std::string_view(r.key)))) return false;
    return true;
  }
  // Selects everything (no requirements and not the "nothing" selector).
  bool empty() const { return !nothing_ && requirements_.empty(); }
  bool selectsNothing() const { return nothing_; }
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // Kubernetes' Selector.String(): requirements sorted by key, joined with ",":
  // "a=b", "a in (x,y)", "a notin (x)", "a", "!a".
  std::string toString() const;

 private:
  std::vector<Requirement> requirements_;
  bool nothing_ = false;
};

// Shorthand for the common case: does the plain map `selector` select `labels`?
bool selectorMatches(const core::Node* selector, const Labels& labels);

// The pods `selector` may select, in Snapshot::all(Pod) order, limited to namespace `ns` when
// given: those carrying the label of its rarest equality requirement (from the Snapshot's
// index), or every pod (in `ns`) when it has none. A superset: check matches() on each.
std::span<const core::Resource* const> podCandidates(const Snapshot& snapshot, const LabelSelector& selector,
                                                     std::optional<std::string_view> ns = std::nullopt);
// The pods `selector` selects by their metadata.labels, in Snapshot::all(Pod) order, limited
// to namespace `ns` when given. Costs the candidates, not all pods.
std::vector<const core::Resource*> selectPods(const Snapshot& snapshot, const LabelSelector& selector,
                                              std::optional<std::string_view> ns = std::nullopt);
// The first of selectPods(), or nullptr.
const core::Resource* firstSelectedPod(const Snapshot& snapshot, const LabelSelector& selector,
                                       std::optional<std::string_view> ns = std::nullopt);

}  // namespace mesh::analysis
