// Telemetry rules, after Istio's ValidateTelemetry: provider names, sampling percentage, custom
// tags, metric overrides; selector and targetRefs as for other policies.
#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace {

void checkProviders(const Node* owner, const std::string& path, ValidationContext& ctx) {
  auto list = items(owner, "providers");
  for (size_t i = 0; i < list.size(); ++i) {
    const Node* name = field(list[i], "name");
    if (name && name->text().empty()) ctx.error(name, sub(at(sub(path, "providers"), i), "name"), "provider name must not be empty");
  }
}

}  // namespace

void validateTelemetry(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  checkPolicyTargets(spec, ctx);
  auto tracing = items(spec, "tracing");
  if (tracing.size() > 1) ctx.warning(field(spec, "tracing"), "spec.tracing", "only one tracing configuration is supported");
  for (size_t i = 0; i < tracing.size(); ++i) {
    std::string p = at("spec.tracing", i);
    const Node* t = tracing[i];
    checkProviders(t, p, ctx);
    if (items(t, "providers").size() > 1) ctx.warning(field(t, "providers"), sub(p, "providers"), "only one tracing provider is supported");
    const Node* pct = field(t, "randomSamplingPercentage");
    if (auto v = numberOf(pct); v && (*v < 0 || *v > 100))
      ctx.error(pct, sub(p, "randomSamplingPercentage"), fmt::format("randomSamplingPercentage {} is out of range 0..100", pct->text()));
    for (const auto& e : entries(t, "customTags")) {
      std::string tp = keyed(sub(p, "customTags"), e.key->text());
      if (e.key->text().empty()) ctx.error(e.key, tp, "tag name must not be empty");
      if (const Node* lit = field(e.value, "literal"); lit && text(lit, "value").empty())
        ctx.error(lit, sub(tp, "literal.value"), "literal tag value must not be empty");
      if (!isMap(e.value) || (!field(e.value, "literal") && !field(e.value, "environment") && !field(e.value, "header")))
        ctx.error(e.value, tp, "custom tag needs literal, environment or header");
    }
  }
  auto metrics = items(spec, "metrics");
  for (size_t i = 0; i < metrics.size(); ++i) {
    std::string p = at("spec.metrics", i);
    checkProviders(metrics[i], p, ctx);
    auto overrides = items(metrics[i], "overrides");
    for (size_t j = 0; j < overrides.size(); ++j) {
      std::string op = at(sub(p, "overrides"), j);
      for (const auto& e : entries(overrides[j], "tagOverrides")) {
        std::string tp = keyed(sub(op, "tagOverrides"), e.key->text());
        std::string_view operation = text(e.value, "operation");
        bool hasValue = !text(e.value, "value").empty();
        if ((operation.empty() || operation == "UPSERT") && !hasValue)
          ctx.error(e.value, sub(tp, "value"), "tag override needs a value when operation is UPSERT");
        if (operation == "REMOVE" && hasValue)
          ctx.error(field(e.value, "value"), sub(tp, "value"), "tag override value is only allowed when operation is UPSERT");
      }
      const Node* custom = field(field(overrides[j], "match"), "customMetric");
      if (custom && custom->text().empty()) ctx.error(custom, sub(op, "match.customMetric"), "customMetric must not be empty");
    }
  }
  auto logging = items(spec, "accessLogging");
  for (size_t i = 0; i < logging.size(); ++i) checkProviders(logging[i], at("spec.accessLogging", i), ctx);
}

}  // namespace mesh::core
