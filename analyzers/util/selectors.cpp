#include "analyzers/util/selectors.h"

#include <algorithm>

namespace mesh::analysis {
namespace {

void sortRequirements(std::vector<LabelSelector::Requirement>& rs) {
  std::stable_sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
}

}  // namespace

Labels labelsFrom(const core::Node* mapping) {
  Labels out;
  if (!mapping) return out;
  for (const core::MapEntry& e : mapping->entries()) out[std::string(e.key->text())] = std::string(e.value->text());
  return out;
}

Labels labelsOf(const core::Resource& r) { return labelsFrom(r.labels()); }

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

bool LabelSelector::matches(const Labels& labels) const {
  if (nothing_) return false;
  for (const Requirement& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto in = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
    switch (r.op) {
      case Op::Equals:
      case Op::In:
        if (!in()) return false;
        break;
      case Op::NotIn:
        if (in()) return false;
        break;
      case Op::Exists:
        if (!has) return false;
        break;
      case Op::DoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
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

}  // namespace mesh::analysis
