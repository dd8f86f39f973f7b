#include "analyzers/util/selectors.h"

#include <algorithm>

namespace mesh::analysis {
namespace {

void sortRequirements(std::vector<LabelSelector::Requirement>& rs) {
  std::stable_sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
}

// Orders resources against namespaces, for equal_range over lists sorted by namespace.
struct NamespaceOrder {
  bool operator()(const core::Resource* r, std::string_view ns) const { return r->namespace_() < ns; }
  bool operator()(std::string_view ns, const core::Resource* r) const { return ns < r->namespace_(); }
};

}  // namespace

Labels labelsFrom(const core::Node* mapping) {
  Labels out;
  if (!mapping) return out;
  for (const core::MapEntry& e : mapping->entries()) out[std::string(e.key->text())] = std::string(e.value->text());
  return out;
}

Labels labelsOf(const core::Resource& r) { return labelsFrom(r.labels()); }

std::optional<std::string_view> labelValue(const core::Node* mapping, std::string_view key) {
  if (!mapping) return std::nullopt;
  // labelsFrom() lets a later entry with the same key replace an earlier one.
  auto entries = mapping->entries();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->key->text() == key) return it->value->text();
  return std::nullopt;
}

LabelSelector LabelSelector::fromSet(const Labels& set) {
  LabelSelector s;
  for (const auto& [k, v] : set) s.requirements_.push_back({k, Op::Equals, {v}});
  return s;
}

LabelSelector LabelSelector::fromSet(const core::Node* map) { return fromSet(labelsFrom(map)); }

LabelSelector LabelSelector::fromLabelSelector(const core::Node* selector) {
  LabelSelector s;
  if (!selector || selector->isNull()) {
    s.nothing_ = true;
    return s;
  }
  if (const core::Node* ml = selector->get("matchLabels"))
    for (const auto& [k, v] : labelsFrom(ml)) s.requirements_.push_back({k, Op::Equals, {v}});
  if (const core::Node* mes = selector->get("matchExpressions")) {
    for (const core::Node* me : mes->items()) {
      Requirement r;
      if (const core::Node* k = me->get("key")) r.key = std::string(k->text());
      std::string_view op = me->get("operator") ? me->get("operator")->text() : std::string_view();
      if (op == "In") r.op = Op::In;
      else if (op == "NotIn") r.op = Op::NotIn;
      else if (op == "Exists") r.op = Op::Exists;
      else if (op == "DoesNotExist") r.op = Op::DoesNotExist;
      else {
        // Kubernetes rejects an unknown operator; treat the selector as selecting nothing.
        s.nothing_ = true;
        continue;
      }
      if (const core::Node* vs = me->get("values"))
        for (const core::Node* v : vs->items()) r.values.emplace_back(v->text());
      std::sort(r.values.begin(), r.values.end());
      s.requirements_.push_back(std::move(r));
    }
  }
  sortRequirements(s.requirements_);
  return s;
}

bool LabelSelector::Requirement::satisfiedBy(std::optional<std::string_view> value) const {
  auto in = [&] { return value && std::find(values.begin(), values.end(), *value) != values.end(); };
  switch (op) {
    case Op::Equals:
    case Op::In: return in();
    case Op::NotIn: return !in();
    case Op::Exists: return value.has_value();
    case Op::DoesNotExist: return !value.has_value();
  }
  return false;
}

bool LabelSelector::matches(const Labels& labels) const {
  return matchesLookup([&](std::string_view key) -> std::optional<std::string_view> {
    auto it = labels.find(key);
    if (it == labels.end()) return std::nullopt;
    return it->second;
  });
}

bool LabelSelector::matches(const core::Node* labels) const {
  return matchesLookup([&](std::string_view key) { return labelValue(labels, key); });
}

std::string LabelSelector::toString() const {
  std::string out;
  for (const Requirement& r : requirements_) {
    if (!out.empty()) out += ',';
    auto list = [&] {
      std::string l = "(";
      for (size_t i = 0; i < r.values.size(); ++i) l += (i ? "," : "") + r.values[i];
      return l + ")";
    };
    switch (r.op) {
      case Op::Equals: out += r.key + "=" + (r.values.empty() ? "" : r.values[0]); break;
      case Op::In: out += r.key + " in " + list(); break;
      case Op::NotIn: out += r.key + " notin " + list(); break;
      case Op::Exists: out += r.key; break;
      case Op::DoesNotExist: out += "!" + r.key; break;
    }
  }
  return out;
}

bool selectorMatches(const core::Node* selector, const Labels& labels) {
  return LabelSelector::fromSet(selector).matches(labels);
}

std::span<const core::Resource* const> podCandidates(const Snapshot& snapshot, const LabelSelector& selector,
                                                     std::optional<std::string_view> ns) {
  if (selector.selectsNothing()) return {};
  // Pod lists are in all(Pod) order, sorted by namespace: a namespace is one slice of them.
  auto inNs = [&](std::span<const core::Resource* const> pods) {
    if (!ns) return pods;
    auto [lo, hi] = std::equal_range(pods.begin(), pods.end(), *ns, NamespaceOrder{});
    return std::span<const core::Resource* const>(lo, hi);
  };
  std::span<const core::Resource* const> best = ns ? snapshot.inNamespace(kinds::Pod, *ns) : snapshot.all(kinds::Pod);
  for (const LabelSelector::Requirement& r : selector.requirements()) {
    bool equality = r.op == LabelSelector::Op::Equals || r.op == LabelSelector::Op::In;
    if (!equality || r.values.size() != 1) continue;
    auto pods = inNs(snapshot.podsWithLabel(r.key, r.values.front()));
    if (pods.size() < best.size()) best = pods;
  }
  return best;
}

std::vector<const core::Resource*> selectPods(const Snapshot& snapshot, const LabelSelector& selector,
                                              std::optional<std::string_view> ns) {
  std::vector<const core::Resource*> out;
  for (const core::Resource* pod : podCandidates(snapshot, selector, ns))
    if (selector.matches(*pod)) out.push_back(pod);
  return out;
}

const core::Resource* firstSelectedPod(const Snapshot& snapshot, const LabelSelector& selector,
                                       std::optional<std::string_view> ns) {
  for (const core::Resource* pod : podCandidates(snapshot, selector, ns))
    if (selector.matches(*pod)) return pod;
  return nullptr;
}

}  // namespace mesh::analysis
