// HTTPRoute and GRPCRoute → VirtualService http routes, after istiod's convertHTTPRoute and
// convertGRPCRoute: one Istio route per match (so they can be ordered by Gateway API
// precedence, Istio's sortHTTPRoutes), filters as headers/redirect/rewrite/mirror/corsPolicy,
// timeouts and retry. Backends that are invalid get their share of requests answered with 500:
// a fault abort of that percentage when some backends remain, a 500 directResponse when none do.
#include <algorithm>

#include <fmt/format.h>

#include "controlplane/model/gateway_api/context.h"
#include "controlplane/model/node_values.h"
#include "core/validation/duration.h"

namespace mesh::model::gateway_api {
namespace {

// One Istio HTTPRoute before attachment: its match (at most one) and the rest, with the keys
// Istio's sortHTTPRoutes orders by.
struct HttpRule {
  std::optional<Value> match;
  Value body = Value::map();
  int rank = -1;  // exact 3, prefix 2, regex 1, no uri -1
  size_t length = 0;
  bool method = false;
  size_t headers = 0;
  size_t queries = 0;
};

// Gateway API precedence as Istio applies it: rules with a match first; then exact over prefix
// over regex paths, longer paths, a method, more header matches, more query matches.
bool precedes(const HttpRule& a, const HttpRule& b) {
  if (!a.match) return false;
  if (!b.match) return true;
  if (a.rank != b.rank) return a.rank > b.rank;
  if (a.length != b.length) return a.length > b.length;
  if (a.method != b.method) return a.method;
  if (a.headers != b.headers) return a.headers > b.headers;
  return a.queries > b.queries;
}

Value stringMatch(std::string_view type, std::string_view value, core::Mark m) {
  Value sm = Value::map(m);
  sm.set(type, Value::string(value, m));
  return sm;
}

// headers: [{name, value, type}] → {name: {exact|regex}}; the first of equal names wins.
void headerMatches(const core::Node* list, Value& match, HttpRule& rule) {
  if (items(list).empty()) return;
  Value& out = match.set("headers", Value::map(markOf(list)));
  for (const core::Node* h : items(list)) {
    std::string name = lowerCase(text(h, "name"));
    if (name.empty() || out.find(name)) continue;
    out.set(name, stringMatch(text(h, "type") == "RegularExpression" ? "regex" : "exact", text(h, "value"), markOf(h)));
  }
  rule.headers = out.entries().size();
}

void setUri(Value& match, HttpRule& rule, std::string_view type, const std::string& value, core::Mark m) {
  match.set("uri", stringMatch(type, value, m));
  rule.rank = type == "exact" ? 3 : type == "prefix" ? 2 : 1;
  rule.length = value.size();
}

void httpMatch(const core::Node* m, HttpRule& rule) {
  Value match = Value::map(markOf(m));
  // The API server defaults a missing path to PathPrefix "/".
  const core::Node* path = m->get("path");
  std::string_view type = text(path, "type");
  std::string value(path && path->get("value") ? text(path, "value") : "/");
  if (type == "Exact") {
    setUri(match, rule, "exact", value, markAt(m, "path"));
  } else if (type == "RegularExpression") {
    setUri(match, rule, "regex", value, markAt(m, "path"));
  } else {
    // "When specified, a trailing `/` is ignored."
    if (value.size() > 1 && value.back() == '/') value.pop_back();
    setUri(match, rule, "prefix", value, markAt(m, "path"));
  }
  headerMatches(m->get("headers"), match, rule);
  if (const core::Node* qs = m->get("queryParams"); !items(qs).empty()) {
    Value& out = match.set("queryParams", Value::map(markOf(qs)));
    for (const core::Node* q : items(qs))
      if (!out.find(text(q, "name")))
        out.set(text(q, "name"),
                stringMatch(text(q, "type") == "RegularExpression" ? "regex" : "exact", text(q, "value"), markOf(q)));
    rule.queries = out.entries().size();
  }
  if (const core::Node* method = m->get("method")) {
    match.set("method", stringMatch("exact", method->text(), markOf(method)));
    rule.method = true;
  }
  rule.match = std::move(match);
}

// gRPC calls are POST /<service>/<method>: method matches become path matches.
void grpcMatch(const core::Node* m, HttpRule& rule) {
  Value match = Value::map(markOf(m));
  if (const core::Node* method = m->get("method")) {
    std::string_view service = text(method, "service"), name = text(method, "method");
    core::Mark mk = markOf(method);
    bool regex = text(method, "type") == "RegularExpression";
    if (!service.empty() && !name.empty())
      setUri(match, rule, regex ? "regex" : "exact", fmt::format("/{}/{}", service, name), mk);
    else if (!service.empty())
      regex ? setUri(match, rule, "regex", fmt::format("/{}/.+", service), mk)
            : setUri(match, rule, "prefix", fmt::format("/{}/", service), mk);
    else if (!name.empty()) setUri(match, rule, "regex", fmt::format("/[^/]+/{}", name), mk);
  }
  headerMatches(m->get("headers"), match, rule);
  rule.match = std::move(match);
}

Value redirect(const core::Node* f) {
  core::Mark m = markOf(f);
  Value out = Value::map(m);
  const core::Node* path = f->get("path");
  if (text(path, "type") == "ReplaceFullPath") {
    out.set("uri", Value::string(text(path, "replaceFullPath"), markOf(path)));
  } else if (text(path, "type") == "ReplacePrefixMatch") {
    // Istio's marker for "replace the matched prefix" (Envoy prefix_rewrite on redirects).
    out.set("uri", Value::string(fmt::format("%PREFIX()%{}", text(path, "replacePrefixMatch")), markOf(path)));
  }
  if (f->get("hostname")) out.set("authority", Value::string(text(f, "hostname"), markAt(f, "hostname")));
  if (auto port = uint32At(f, "port")) {
    out.set("port", Value::number(*port, markAt(f, "port")));
  } else {
    // Gateway API: the scheme's well-known port when a scheme is set, else the request's port.
    out.set("derivePort", Value::string(f->get("scheme") ? "FROM_PROTOCOL_DEFAULT" : "FROM_REQUEST_PORT", m));
  }
  if (f->get("scheme")) out.set("scheme", Value::string(text(f, "scheme"), markAt(f, "scheme")));
  // The CRD defaults statusCode to 302; Istio's own default would be 301.
  const core::Node* code = f->get("statusCode");
  out.set("redirectCode", Value::number(code ? code->asInt().value_or(302) : 302, markOf(code ? code : f)));
  return out;
}

Value rewrite(const core::Node* f) {
  Value out = Value::map(markOf(f));
  const core::Node* path = f->get("path");
  if (text(path, "type") == "ReplacePrefixMatch") {
    std::string uri(text(path, "replacePrefixMatch"));
    if (!uri.empty() && uri.back() == '/') uri.pop_back();
    out.set("uri", Value::string(uri.empty() ? "/" : uri, markOf(path)));  // "/" removes the prefix
  } else if (text(path, "type") == "ReplaceFullPath") {
    Value& regex = out.set("uriRegexRewrite", Value::map(markOf(path)));
    regex.set("match", Value::string("/.*", markOf(path)));
    regex.set("rewrite", Value::string(text(path, "replaceFullPath"), markOf(path)));
  }
  if (f->get("hostname")) out.set("authority", Value::string(text(f, "hostname"), markAt(f, "hostname")));
  return out;
}

Value cors(const core::Node* f) {
  Value out = Value::map(markOf(f));
  if (const core::Node* origins = f->get("allowOrigins"); !items(origins).empty()) {
    Value& list = out.set("allowOrigins", Value::list(markOf(origins)));
    for (const core::Node* o : items(origins)) list.push(stringMatch("exact", o->text(), markOf(o)));
  }
  for (std::string_view key : {"allowMethods", "allowHeaders", "exposeHeaders"})
    if (const core::Node* l = f->get(key); !items(l).empty()) out.set(key, Value::strings(stringList(l), markOf(l)));
  if (boolAt(f, "allowCredentials").value_or(false))
    out.set("allowCredentials", Value::boolean(true, markAt(f, "allowCredentials")));
  if (auto age = uint32At(f, "maxAge")) out.set("maxAge", Value::string(fmt::format("{}s", *age), markAt(f, "maxAge")));
  out.set("unmatchedPreflights", Value::string("IGNORE", markOf(f)));
  return out;
}

std::optional<Value> mirror(Context& ctx, RouteKind kind, const core::Resource& route, const core::Node* f,
                            const std::string& path) {
  const core::Node* ref = f ? f->get("backendRef") : nullptr;
  if (!ref) return std::nullopt;
  Backend b = resolveBackend(ctx, kind, route, ref);
  if (!b.problem.empty()) {
    ctx.warn(route, ref, path + ".requestMirror.backendRef", b.problem + "; mirror left out");
    return std::nullopt;
  }
  Value policy = Value::map(markOf(f));
  policy.set("destination", destination(b));
  std::optional<double> percent;
  if (const core::Node* fraction = f->get("fraction")) {
    double denominator = numberAt(fraction, "denominator").value_or(100);
    if (denominator > 0) percent = numberAt(fraction, "numerator").value_or(0) * 100 / denominator;
  } else if (auto p = numberAt(f, "percent")) {
    percent = *p;
  }
  if (percent) policy.set("percentage", Value::map(markOf(f))).set("value", Value::decimal(*percent, markOf(f)));
  return policy;
}

bool nonZero(std::string_view duration) {
  auto ns = core::validation::parseDuration(duration);
  return ns && *ns != 0;
}

// One Gateway API rule → the body shared by the Istio routes of its matches.
Value ruleBody(Context& ctx, RouteKind kind, const core::Resource& route, const core::Node* rule, size_t index) {
  std::string path = fmt::format("spec.rules[{}]", index);
  core::Mark m = markOf(rule);
  Value body = Value::map(m);
  // Istio names rules "<ns>.<route>.<index>" unless the rule has a name.
  std::string name = rule->get("name") ? std::string(text(rule, "name"))
                                       : fmt::format("{}.{}.{}", route.namespace_(), route.name(), index);
  body.set("name", Value::string(name, markAt(rule, "name")));

  Value headers = Value::map(markAt(rule, "filters"));
  std::optional<Value> redirectTo, rewriteTo, corsPolicy;
  std::vector<Value> mirrors;
  auto filters = items(rule->get("filters"));
  for (size_t i = 0; i < filters.size(); ++i) {
    const core::Node* f = filters[i];
    std::string fp = fmt::format("{}.filters[{}]", path, i);
    std::string_view type = text(f, "type");
    if (type == "RequestHeaderModifier") {
      if (Value ops = headerOperations(f->get("requestHeaderModifier")); !ops.empty())
        headers.set("request", std::move(ops));
    } else if (type == "ResponseHeaderModifier") {
      if (Value ops = headerOperations(f->get("responseHeaderModifier")); !ops.empty())
        headers.set("response", std::move(ops));
    } else if (type == "RequestMirror") {
      if (auto p = mirror(ctx, kind, route, f->get("requestMirror"), fp)) mirrors.push_back(std::move(*p));
    } else if (type == "RequestRedirect" && kind == RouteKind::Http && f->get("requestRedirect")) {
      redirectTo = redirect(f->get("requestRedirect"));
    } else if (type == "URLRewrite" && kind == RouteKind::Http && f->get("urlRewrite")) {
      if (Value r = rewrite(f->get("urlRewrite")); !r.empty()) rewriteTo = std::move(r);
    } else if (type == "CORS" && kind == RouteKind::Http && f->get("cors")) {
      corsPolicy = cors(f->get("cors"));
    } else {
      ctx.warn(route, f, fp + ".type", fmt::format("filter type {} is not supported by Istio; ignored", type));
    }
  }

  bool answered = false;  // redirect or directResponse: nothing is forwarded
  if (redirectTo) {
    body.set("redirect", std::move(*redirectTo));
    answered = true;
    if (rewriteTo)
      ctx.warn(route, rule->get("filters"), path + ".filters",
               "URLRewrite cannot be combined with RequestRedirect; rewrite ignored");
    rewriteTo.reset();
  } else {
    Routed routed = routeBackends(ctx, kind, route, rule, path, true);
    if (routed.validWeight == 0) {
      // No backend with weight > 0, or none valid: the spec requires 500 for all of the rule.
      Value& direct = body.set("directResponse", Value::map(markAt(rule, "backendRefs")));
      direct.set("status", Value::number(500, direct.mark()));
      answered = true;
      rewriteTo.reset();
    } else {
      body.set("route", std::move(routed.route));
      if (routed.invalidWeight > 0) {
        // The share of the invalid backends gets 500, the rest is split among the valid ones.
        core::Mark bm = markAt(rule, "backendRefs");
        double percent = 100.0 * static_cast<double>(routed.invalidWeight) /
                         static_cast<double>(routed.invalidWeight + routed.validWeight);
        Value& abort = body.set("fault", Value::map(bm)).set("abort", Value::map(bm));
        abort.set("httpStatus", Value::number(500, bm));
        abort.set("percentage", Value::map(bm)).set("value", Value::decimal(percent, bm));
      }
    }
  }
  if (rewriteTo) body.set("rewrite", std::move(*rewriteTo));
  if (!headers.empty()) body.set("headers", std::move(headers));
  if (!answered && mirrors.size() == 1) {
    body.set("mirror", *mirrors.front().find("destination"));
    if (const Value* p = mirrors.front().find("percentage")) body.set("mirrorPercentage", *p);
  } else if (!answered && mirrors.size() > 1) {
    Value& list = body.set("mirrors", Value::list(markAt(rule, "filters")));
    for (Value& p : mirrors) list.push(std::move(p));
  }
  if (corsPolicy) body.set("corsPolicy", std::move(*corsPolicy));

  if (const core::Node* retry = rule->get("retry"); retry && retry->isMapping()) {
    // Gateway API retries also cover connection errors; Istio's default attempts are 2.
    Value& retries = body.set("retries", Value::map(markOf(retry)));
    int64_t attempts = retry->get("attempts") ? retry->get("attempts")->asInt().value_or(2) : 2;
    retries.set("attempts", Value::number(attempts, markAt(retry, "attempts")));
    if (attempts > 0) {
      std::string on = "connect-failure,refused-stream,unavailable,cancelled";
      for (const std::string& code : stringList(retry->get("codes"))) on += "," + code;
      retries.set("retryOn", Value::string(on, markAt(retry, "codes")));
    }
    if (retry->get("backoff")) retries.set("backoff", Value::string(text(retry, "backoff"), markAt(retry, "backoff")));
  }
  if (const core::Node* timeouts = rule->get("timeouts")) {
    if (const core::Node* t = timeouts->get("request"); t && nonZero(t->text()))
      body.set("timeout", Value::string(t->text(), markOf(t)));
    if (const core::Node* t = timeouts->get("backendRequest"); t && nonZero(t->text())) {
      // Per attempt when retries are configured, else it bounds the whole request.
      if (Value* retries = body.find("retries")) retries->set("perTryTimeout", Value::string(t->text(), markOf(t)));
      else body.set("timeout", Value::string(t->text(), markOf(t)));
    }
  }
  return body;
}

std::vector<HttpRule> convertRules(Context& ctx, RouteKind kind, const core::Resource& route) {
  std::vector<HttpRule> out;
  auto rules = items(route.spec() ? route.spec()->get("rules") : nullptr);
  for (size_t i = 0; i < rules.size(); ++i) {
    Value body = ruleBody(ctx, kind, route, rules[i], i);
    auto matches = items(rules[i]->get("matches"));
    if (matches.empty()) {
      HttpRule r;
      r.body = body;
      out.push_back(std::move(r));
    }
    // One Istio route per match, so each can take its own place in the precedence order.
    for (const core::Node* m : matches) {
      HttpRule r;
      r.body = body;
      kind == RouteKind::Grpc ? grpcMatch(m, r) : httpMatch(m, r);
      out.push_back(std::move(r));
    }
  }
  std::ranges::stable_sort(out, precedes);
  return out;
}

// The Istio route for one attachment: name, the match (on the attachment's ports), the body.
Value httpRoute(const HttpRule& rule, const Attachment& a) {
  Value out = Value::map(rule.body.mark());
  auto entries = rule.body.entries();
  out.set(entries.front().first, entries.front().second);  // name first
  if (rule.match || !a.ports.empty()) {
    Value matches = Value::list(rule.match ? rule.match->mark() : rule.body.mark());
    if (a.ports.empty()) matches.push(*rule.match);
    for (uint32_t port : a.ports) {
      Value m = rule.match ? *rule.match : Value::map(markOf(a.ref));
      m.set("port", Value::number(port, markOf(a.ref)));
      matches.push(std::move(m));
    }
    out.set("match", std::move(matches));
  }
  for (size_t i = 1; i < entries.size(); ++i) out.set(entries[i].first, entries[i].second);
  return out;
}

void convertRoutes(Context& ctx, RouteKind kind, const std::vector<const core::Resource*>& routes) {
  for (const core::Resource* route : routes) {
    std::vector<Attachment> attachments = attachRoute(ctx, kind, *route);
    if (attachments.empty()) continue;
    std::vector<HttpRule> rules = convertRules(ctx, kind, *route);
    if (rules.empty()) {
      ctx.warn(*route, route->spec(), "spec.rules", "the route has no rules; nothing to convert");
      continue;
    }
    const core::Node* hostnames = route->spec()->get("hostnames");
    for (size_t i = 0; i < attachments.size(); ++i) {
      const Attachment& a = attachments[i];
      Value root = Value::map(route->mark());
      root.set("apiVersion", Value::string("networking.istio.io/v1", route->mark()));
      root.set("kind", Value::string("VirtualService", route->mark()));
      root.set("metadata",
               generatedMetadata(virtualServiceName(route->name(), kind == RouteKind::Grpc ? "grpc-" : "", i), *route,
                                 true));
      Value& spec = root.set("spec", Value::map(markOf(route->spec())));
      spec.set("hosts", Value::strings(a.hosts, markOf(hostnames ? hostnames : a.ref)));
      spec.set("gateways", Value::strings({a.gateway}, markOf(a.ref)));
      if (a.consumerRoute) spec.set("exportTo", Value::strings({"."}, markOf(a.ref)));
      Value& http = spec.set("http", Value::list(markAt(route->spec(), "rules")));
      for (const HttpRule& r : rules) http.push(httpRoute(r, a));
      ctx.emit(root, *route);
    }
  }
}

}  // namespace

void convertHttpRoutes(Context& ctx) {
  convertRoutes(ctx, RouteKind::Http, ctx.inputs().httpRoutes);
  convertRoutes(ctx, RouteKind::Grpc, ctx.inputs().grpcRoutes);
}

}  // namespace mesh::model::gateway_api
