#include <fmt/format.h>

#include <set>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"

namespace mesh::core::validation {

void checkLabels(const Node* labels, const std::string& path, ValidationContext& ctx) {
  if (!isMap(labels)) return;
  for (const auto& e : labels->entries()) {
    std::string err = checkQualifiedName(e.key->text());
    if (!err.empty()) ctx.error(e.key, path, err);
    if (auto v = stringOf(e.value)) {
      err = checkLabelValue(*v);
      if (!err.empty()) ctx.error(e.value, keyed(path, e.key->text()), err);
    }
  }
}

void checkWorkloadSelector(const Node* selector, std::string_view labelsField, const std::string& path,
                           ValidationContext& ctx) {
  if (!isMap(selector)) return;
  std::string labelsPath = sub(path, labelsField);
  const Node* labels = field(selector, labelsField);
  if (!labels || labels->size() == 0) {
    ctx.warning(selector, path, "workload selector has no labels: it selects every workload in the namespace");
    return;
  }
  for (const auto& e : labels->entries()) {
    std::string_view k = e.key->text();
    std::string_view v = e.value->isScalar() ? e.value->text() : std::string_view();
    if (k.find('*') != std::string_view::npos || v.find('*') != std::string_view::npos)
      ctx.error(e.key, labelsPath, fmt::format("wildcard is not supported in selector: \"{}={}\"", k, v));
  }
  checkLabels(labels, labelsPath, ctx);
}

void checkPolicyTargets(const Node* spec, ValidationContext& ctx) {
  const Node* selector = field(spec, "selector");
  const Node* targetRef = field(spec, "targetRef");
  const Node* targetRefs = field(spec, "targetRefs");
  int set = (selector ? 1 : 0) + (targetRef ? 1 : 0) + (isSet(spec, "targetRefs") ? 1 : 0);
  if (set > 1)
    ctx.error(targetRef ? targetRef : targetRefs, targetRef ? "spec.targetRef" : "spec.targetRefs",
              "only one of selector, targetRef or targetRefs may be set");
  checkWorkloadSelector(selector, "matchLabels", "spec.selector", ctx);
  auto checkRef = [&](const Node* ref, const std::string& path) {
    if (!isMap(ref)) return;
    if (const Node* ns = field(ref, "namespace"); ns && !ns->text().empty())
      ctx.error(ns, sub(path, "namespace"), "targetRef namespace must not be set: cross-namespace references are not supported");
    std::string_view group = text(ref, "group");
    std::string_view kind = text(ref, "kind");
    bool allowed = (group.empty() && kind == "Service") || (group == "networking.istio.io" && kind == "ServiceEntry") ||
                   (group == "gateway.networking.k8s.io" && (kind == "Gateway" || kind == "GatewayClass"));
    if (!kind.empty() && !allowed)
      ctx.error(field(ref, "kind"), sub(path, "kind"),
                fmt::format("targetRef to {}/{} is not supported: use Service, networking.istio.io ServiceEntry or "
                            "gateway.networking.k8s.io Gateway",
                            group.empty() ? "core" : group, kind));
  };
  checkRef(targetRef, "spec.targetRef");
  auto refs = items(spec, "targetRefs");
  for (size_t i = 0; i < refs.size(); ++i) checkRef(refs[i], at("spec.targetRefs", i));
}

void checkExportTo(const Node* spec, std::string_view ns, bool serviceEntry, bool selectorDestinationRule,
                   ValidationContext& ctx) {
  auto list = items(spec, "exportTo");
  if (list.empty()) return;
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    auto e = stringOf(list[i]);
    if (!e) continue;
    std::string path = at("spec.exportTo", i);
    std::string key = *e == "." ? std::string(ns) : std::string(*e);
    if (seen.contains(key)) {
      ctx.error(list[i], path,
                key != *e ? fmt::format("duplicate exportTo entry: \".\" and the current namespace {}", ns)
                          : fmt::format("duplicate exportTo entry \"{}\"", *e));
      continue;
    }
    bool valid = *e == "." || *e == "*" || isDns1123Label(*e) || (serviceEntry && *e == "~");
    if (!valid) {
      ctx.error(list[i], path,
                fmt::format("exportTo entry \"{}\" is not allowed: use \".\", \"*\"{} or a namespace name", *e,
                            serviceEntry ? ", \"~\"" : ""));
      continue;
    }
    seen.insert(key);
  }
  if (selectorDestinationRule && !seen.empty() && (seen.size() > 1 || !seen.contains(ns)))
    ctx.error(field(spec, "exportTo"), "spec.exportTo",
              "a destination rule with a workload selector may only be exported to its own namespace");
  if (seen.contains("*") && list.size() > 1)
    ctx.error(field(spec, "exportTo"), "spec.exportTo", "\"*\" exports to every namespace and cannot be combined with other entries");
  if (seen.contains("~") && list.size() > 1)
    ctx.error(field(spec, "exportTo"), "spec.exportTo", "\"~\" exports to no namespace and cannot be combined with other entries");
}

}  // namespace mesh::core::validation
