#include "controlplane/model/gateway_api/context.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"

namespace mesh::model::gateway_api {
namespace {

bool inList(const core::Node* values, std::string_view v) {
  for (const std::string& s : stringList(values))
    if (s == v) return true;
  return false;
}

// Kubernetes LabelSelector semantics: matchLabels and matchExpressions all hold.
bool selects(const core::Node* selector, const Labels& labels) {
  for (const auto& [k, v] : labelsFrom(selector ? selector->get("matchLabels") : nullptr)) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const core::Node* e : items(selector ? selector->get("matchExpressions") : nullptr)) {
    std::string_view key = text(e, "key"), op = text(e, "operator");
    auto it = labels.find(std::string(key));
    bool has = it != labels.end();
    if (op == "In" && !(has && inList(e->get("values"), it->second))) return false;
    if (op == "NotIn" && has && inList(e->get("values"), it->second)) return false;
    if (op == "Exists" && !has) return false;
    if (op == "DoesNotExist" && has) return false;
    if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") return false;
  }
  return true;
}

}  // namespace

std::string_view kindName(RouteKind k) {
  switch (k) {
    case RouteKind::Http: return "HTTPRoute";
    case RouteKind::Grpc: return "GRPCRoute";
    case RouteKind::Tcp: return "TCPRoute";
    case RouteKind::Tls: return "TLSRoute";
  }
  return "";
}

Context::Context(const Inputs& inputs, std::string_view domain) : inputs_(inputs), domain_(domain) {
  for (const core::Resource* s : inputs_.services) services_.emplace(std::pair(s->namespace_(), s->name()), s);
  for (const core::Resource* se : inputs_.serviceEntries)
    for (const core::Node* h : items(se->spec() ? se->spec()->get("hosts") : nullptr))
      if (h->isScalar()) serviceEntryHosts_.insert(h->text());
  // Istio honours grants from Gateways (to Secrets) and from routes (to Services); other kinds
  // may be meant for other controllers and are ignored.
  for (const core::Resource* g : inputs_.referenceGrants) {
    const core::Node* spec = g->spec();
    for (const core::Node* from : items(spec ? spec->get("from") : nullptr)) {
      if (text(from, "group") != kGatewayGroup) continue;
      std::string_view fromKind = text(from, "kind");
      if (fromKind != "Gateway" && fromKind != "HTTPRoute" && fromKind != "GRPCRoute" && fromKind != "TCPRoute" &&
          fromKind != "TLSRoute")
        continue;
      for (const core::Node* to : items(spec->get("to"))) {
        std::string_view toKind = text(to, "kind");
        if (!text(to, "group").empty() || (toKind != "Service" && toKind != "Secret")) continue;
        auto& names = grants_[{std::string(fromKind), std::string(text(from, "namespace")), std::string(toKind),
                               std::string(g->namespace_())}];
        names.insert(std::string(text(to, "name")));  // "" when the grant names none: all of them
      }
    }
  }
}

bool Context::granted(std::string_view fromKind, std::string_view fromNs, std::string_view toKind,
                      std::string_view toNs, std::string_view toName) const {
  auto it =
      grants_.find(std::tuple(std::string(fromKind), std::string(fromNs), std::string(toKind), std::string(toNs)));
  if (it == grants_.end()) return false;
  return it->second.contains("") || it->second.contains(std::string(toName));
}

const core::Resource* Context::service(std::string_view ns, std::string_view name) const {
  auto it = services_.find(std::pair(ns, name));
  return it == services_.end() ? nullptr : it->second;
}

bool Context::serviceEntryHost(std::string_view host) const { return serviceEntryHosts_.contains(host); }

std::set<std::string> Context::selectNamespaces(const core::Node* selector) const {
  std::set<std::string> out;
  for (const core::Resource* ns : inputs_.namespaces) {
    Labels labels = labelsFrom(ns->labels());
    labels.insert_or_assign("kubernetes.io/metadata.name", std::string(ns->name()));
    if (selects(selector, labels)) out.insert(std::string(ns->name()));
  }
  return out;
}

const GatewayInfo* Context::gateway(std::string_view ns, std::string_view name) const {
  auto it = gateways_.find(std::pair(std::string(ns), std::string(name)));
  return it == gateways_.end() ? nullptr : &it->second;
}

void Context::warn(const core::Resource& r, const core::Node* at, std::string field, std::string message) {
  core::Mark m = at ? at->mark() : r.mark();
  diagnostics_.push_back(core::Diagnostic{core::Severity::Warning,
                                          r.file(),
                                          m.line,
                                          m.column,
                                          r.displayName(),
                                          std::move(field),
                                          std::move(message),
                                          {},
                                          {}});
}

std::string lowerCase(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string virtualServiceName(std::string_view route, std::string_view infix, size_t index) {
  return fmt::format("{}-{}{}-{}", route, infix, index, kGeneratedSuffix);
}

Value generatedMetadata(std::string_view name, const core::Resource& origin, bool route) {
  core::Mark m = markOf(origin.metadata());
  Value meta = Value::map(m);
  meta.set("name", Value::string(name, markAt(origin.metadata(), "name")));
  meta.set("namespace", Value::string(origin.namespace_(), m));
  Value& annotations = meta.set("annotations", Value::map(m));
  // Istio's internal.istio.io/parents: "<Kind>/<name>.<namespace>" of the source object.
  annotations.set("internal.istio.io/parents",
                  Value::string(fmt::format("{}/{}.{}", origin.kind(), origin.name(), origin.namespace_()), m));
  if (route) annotations.set("internal.istio.io/route-semantics", Value::string("gateway", m));
  return meta;
}

}  // namespace mesh::model::gateway_api
