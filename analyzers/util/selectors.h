// Kubernetes label selectors for analyzers: plain `key: value` maps (labels.SelectorFromSet)
// and metav1.LabelSelector (matchLabels + matchExpressions with In, NotIn, Exists,
// DoesNotExist). Shared by every analyzer that asks "which pods does this select?".
// Pure functions and immutable values; any thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/resource.h"

namespace mesh::analysis {

using Labels = std::map<std::string, std::string, std::less<>>;

// A mapping node of string values as Labels; non-mappings give an empty set.
Labels labelsFrom(const core::Node* mapping);
// A resource's metadata.labels.
Labels labelsOf(const core::Resource& r);

class LabelSelector {
 public:
  enum class Op { Equals, In, NotIn, Exists, DoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::Equals;
    std::vector<std::string> values;  // sorted, as Kubernetes keeps them
  };

  // labels.SelectorFromSet: every pair must be present. A missing or empty map selects
  // everything (callers that treat "no selector" specially check empty() first).
  static LabelSelector fromSet(const core::Node* map);
  static LabelSelector fromSet(const Labels& set);
  // metav1.LabelSelectorAsSelector: a missing selector selects nothing, `{}` everything.
  static LabelSelector fromLabelSelector(const core::Node* selector);

  bool matches(const Labels& labels) const;
  bool matches(const core::Resource& r) const { return matches(labelsOf(r)); }
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

}  // namespace mesh::analysis
