// backendRefs → Istio destinations, after istiod's buildDestination/buildHTTPDestination: Service
// references become "<name>.<ns>.svc.<domain>"; references across namespaces need a
// ReferenceGrant; missing Services and unsupported kinds make a backend invalid. Invalid
// backends are reported and left out; the caller decides what their share of traffic gets.
#include <fmt/format.h>

#include "controlplane/model/gateway_api/context.h"
#include "controlplane/model/node_values.h"

namespace mesh::model::gateway_api {

Backend resolveBackend(const Context& ctx, RouteKind kind, const core::Resource& route, const core::Node* ref) {
  Backend b;
  b.node = ref;
  if (const core::Node* w = ref->get("weight")) b.weight = w->asInt().value_or(1);
  std::string_view group = text(ref, "group"), refKind = text(ref, "kind"), name = text(ref, "name");
  std::string_view ns = text(ref, "namespace");
  if (ns.empty()) ns = route.namespace_();
  auto port = uint32At(ref, "port");
  if (group.empty() && (refKind.empty() || refKind == "Service")) {
    if (ns != route.namespace_() && !ctx.granted(kindName(kind), route.namespace_(), "Service", ns, name)) {
      b.problem = fmt::format("backendRef {}/{} not accessible to a {} in namespace \"{}\" (missing a ReferenceGrant?)",
                              ns, name, kindName(kind), route.namespace_());
      return b;
    }
    if (name.find('.') != std::string_view::npos) {
      b.problem = fmt::format("backendRef \"{}\": use the name of the Service, not a hostname", name);
      return b;
    }
    b.host = fmt::format("{}.{}.svc.{}", name, ns, ctx.domain());
    if (!ctx.service(ns, name)) b.problem = fmt::format("backend({}) not found", b.host);
  } else if (group == "networking.istio.io" && refKind == "Hostname") {
    // Istio's synthetic kind for ServiceEntry hosts.
    b.host = std::string(name);
    if (!text(ref, "namespace").empty()) b.problem = "namespace may not be set with Hostname backendRefs";
    else if (!ctx.serviceEntryHost(name)) b.problem = fmt::format("backend({}) not found", b.host);
  } else {
    b.problem = fmt::format("unsupported backendRef: group \"{}\" kind \"{}\"", group, refKind);
    return b;
  }
  if (b.problem.empty() && !port) b.problem = "port is required in backendRef";
  b.port = port.value_or(0);
  return b;
}

Value destination(const Backend& b) {
  core::Mark m = markOf(b.node);
  Value d = Value::map(m);
  d.set("host", Value::string(b.host, markAt(b.node, "name")));
  Value& port = d.set("port", Value::map(markAt(b.node, "port")));
  port.set("number", Value::number(b.port, markAt(b.node, "port")));
  return d;
}

Value headerOperations(const core::Node* filter) {
  Value out = Value::map(markOf(filter));
  for (std::string_view op : {"set", "add"}) {
    const core::Node* list = filter ? filter->get(op) : nullptr;
    if (items(list).empty()) continue;
    Value& ops = out.set(op, Value::map(markOf(list)));
    for (const core::Node* h : items(list)) {
      std::string name = lowerCase(text(h, "name"));
      if (!name.empty() && !ops.find(name)) ops.set(name, Value::string(text(h, "value"), markOf(h)));
    }
  }
  if (const core::Node* remove = filter ? filter->get("remove") : nullptr; !items(remove).empty())
    out.set("remove", Value::strings(stringList(remove), markOf(remove)));
  return out;
}

Routed routeBackends(Context& ctx, RouteKind kind, const core::Resource& route, const core::Node* rule,
                     const std::string& rulePath, bool http) {
  Routed out;
  const core::Node* refs = rule->get("backendRefs");
  out.route = Value::list(markOf(refs));
  std::vector<Backend> valid;
  auto list = items(refs);
  for (size_t i = 0; i < list.size(); ++i) {
    Backend b = resolveBackend(ctx, kind, route, list[i]);
    if (b.weight <= 0) continue;  // "If weight is set to 0, no traffic should be forwarded"
    if (!b.problem.empty()) {
      ctx.warn(route, list[i], fmt::format("{}.backendRefs[{}]", rulePath, i),
               b.problem + (http ? "; its share of requests gets HTTP 500" : "; left out"));
      out.invalidWeight += b.weight;
      continue;
    }
    out.validWeight += b.weight;
    valid.push_back(std::move(b));
  }
  for (const Backend& b : valid) {
    Value d = Value::map(markOf(b.node));
    d.set("destination", destination(b));
    // One destination takes all traffic: Istio leaves its weight out.
    if (valid.size() > 1) d.set("weight", Value::number(b.weight, markAt(b.node, "weight")));
    if (http) {
      Value headers = Value::map(markAt(b.node, "filters"));
      for (const core::Node* f : items(b.node->get("filters"))) {
        std::string_view type = text(f, "type");
        Value ops = Value::map();
        if (type == "RequestHeaderModifier") ops = headerOperations(f->get("requestHeaderModifier"));
        else if (type == "ResponseHeaderModifier") ops = headerOperations(f->get("responseHeaderModifier"));
        else
          ctx.warn(route, f, rulePath + ".backendRefs.filters",
                   fmt::format("backendRef filter {} is not supported; ignored", type));
        if (!ops.empty()) headers.set(type == "RequestHeaderModifier" ? "request" : "response", std::move(ops));
      }
      if (!headers.empty()) d.set("headers", std::move(headers));
    }
    out.route.push(std::move(d));
  }
  return out;
}

}  // namespace mesh::model::gateway_api
