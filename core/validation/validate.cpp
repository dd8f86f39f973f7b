#include "core/validation/validate.h"

#include <thread>

#include <fmt/format.h>

#include "core/validation/context.h"
#include "core/validation/fields.h"
#include "core/validation/names.h"
#include "core/validation/schema.h"
#include "core/validation/schema_check.h"

namespace mesh::core {
namespace {

using validation::keyed;

constexpr size_t kMaxAnnotationBytes = 256 * 1024;  // Kubernetes' TotalAnnotationSizeLimitB

// Which name rule Kubernetes (or Istio) applies to metadata.name of a kind.
std::string checkName(const Resource& r) {
  std::string_view name = r.name();
  std::string_view group = r.group();
  std::string_view kind = r.kind();
  if (group.empty() && kind == "Service") return validation::checkDns1035Label(name);
  if (group.empty() && kind == "Namespace") return validation::checkDns1123Label(name);
  // Istio: "Gateway name must conform to the DNS label format (no dots)".
  if (group == "networking.istio.io" && kind == "Gateway") return validation::checkDns1123Label(name);
  return validation::checkDns1123Subdomain(name);
}

void checkMetadata(const Resource& r, ValidationContext& ctx) {
  const Node* meta = r.metadata();
  if (!validation::isMap(meta)) return;
  if (const Node* name = meta->get("name"); name && name->isScalar()) {
    std::string err = checkName(r);
    if (!err.empty()) ctx.error(name, "metadata.name", "name " + err);
  }
  if (const Node* ns = validation::field(meta, "namespace"); ns && ns->isScalar()) {
    std::string err = validation::checkDns1123Label(ns->text());
    if (!err.empty()) ctx.error(ns, "metadata.namespace", "namespace " + err);
  }
  for (const auto& e : validation::entries(meta, "labels")) {
    std::string err = validation::checkQualifiedName(e.key->text());
    if (!err.empty()) ctx.error(e.key, "metadata.labels", err);
    if (auto v = validation::stringOf(e.value)) {
      err = validation::checkLabelValue(*v);
      if (!err.empty()) ctx.error(e.value, keyed("metadata.labels", e.key->text()), err);
    }
  }
  size_t annotationBytes = 0;
  for (const auto& e : validation::entries(meta, "annotations")) {
    std::string err = validation::checkQualifiedName(e.key->text());
    if (!err.empty()) ctx.error(e.key, "metadata.annotations", err);
    annotationBytes += e.key->text().size() + e.value->text().size();
    // Istio accepts istio.io/dry-run only on AuthorizationPolicy (validateMetadata).
    if (e.key->text() == "istio.io/dry-run" && r.kind() != "AuthorizationPolicy" &&
        r.group().ends_with("istio.io"))
      ctx.error(e.key, "metadata.annotations", "annotation istio.io/dry-run is only supported on AuthorizationPolicy");
  }
  if (annotationBytes > kMaxAnnotationBytes)
    ctx.error(validation::field(meta, "annotations"), "metadata.annotations",
              fmt::format("annotations take {} bytes, more than the limit of {}", annotationBytes, kMaxAnnotationBytes));
}

std::string servedVersions(const KindInfo& info) {
  std::vector<std::string_view> vs(info.versions.begin(), info.versions.end());
  return validation::oneOfList(vs);
}

}  // namespace

Diagnostics validateResource(const Resource& r) {
  Diagnostics out;
  ValidationContext ctx(r, out);
  const KindInfo* info = r.info();
  if (!info) {
    ctx.error(r.root().get("kind"), "kind", fmt::format("unknown kind {} in {}", r.kind(), r.apiVersion()));
    return out;
  }
  if (!info->servesVersion(r.version())) {
    ctx.error(r.root().get("apiVersion"), "apiVersion",
              fmt::format("{} does not serve {}: use version {}", r.apiVersion(), r.kind(), servedVersions(*info)));
    return out;
  }
  checkMetadata(r, ctx);
  if (const schema::KindSchema* s = schema::findSchema(info->group, info->kind))
    schema::check(*s->root, r.root(), "", ctx);
  if (info->validate) info->validate(r, ctx);
  return out;
}

Diagnostics validateAll(std::span<const Resource> resources) {
  // Resources are independent: validate them in contiguous slices, one per core, and join the
  // findings in input order.
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), resources.size() / 256 + 1);
  std::vector<Diagnostics> perSlice(threads);
  auto work = [&](size_t slice) {
    size_t begin = resources.size() * slice / threads, end = resources.size() * (slice + 1) / threads;
    for (size_t i = begin; i < end; ++i) {
      Diagnostics d = validateResource(resources[i]);
      perSlice[slice].insert(perSlice[slice].end(), std::make_move_iterator(d.begin()), std::make_move_iterator(d.end()));
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  Diagnostics out;
  for (auto& d : perSlice) out.insert(out.end(), std::make_move_iterator(d.begin()), std::make_move_iterator(d.end()));
  return out;
}

}  // namespace mesh::core
