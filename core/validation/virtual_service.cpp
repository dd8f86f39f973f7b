// VirtualService rules, after Istio's ValidateVirtualService and validateHTTPRoute
// (pkg/config/validation/validation.go, virtualservice.go).
#include <fmt/format.h>

#include "core/validation/duration.h"
#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {
namespace {

using namespace validation;

constexpr std::string_view kJwtClaimPrefix = "@request.auth.claims.";

struct VsContext {
  const Node* spec;
  bool delegate;          // no hosts: a delegate VirtualService, included by a root one
  bool appliesToGateway;  // bound to gateways other than "mesh"
  ValidationContext& ctx;
};

// Gateway references: "ns/name", or a legacy bare or FQDN name.
void checkGatewayNames(const Node* owner, const std::string& path, ValidationContext& ctx) {
  auto list = items(owner, "gateways");
  for (size_t i = 0; i < list.size(); ++i) {
    auto g = stringOf(list[i]);
    if (!g) continue;
    std::string p = at(path, i);
    size_t slash = g->find('/');
    if (slash == std::string_view::npos) {
      if (g->find('.') != std::string_view::npos) {
        std::string_view name = g->substr(0, g->find('.'));
        std::string_view rest = g->substr(g->find('.') + 1);
        ctx.warning(list[i], p,
                    fmt::format("legacy gateway name \"{}\": prefer the namespace/name form \"{}/{}\"", *g,
                                rest.substr(0, rest.find('.')), name));
      }
      std::string err = checkFqdn(*g);
      if (!err.empty()) ctx.error(list[i], p, fmt::format("invalid gateway name \"{}\"", *g));
      continue;
    }
    std::string_view ns = g->substr(0, slash), name = g->substr(slash + 1);
    if (ns.empty() || name.empty())
      ctx.error(list[i], p, fmt::format("gateway \"{}\": namespace and name must not be empty", *g));
    else if (!isDns1123Label(ns))
      ctx.error(list[i], p, fmt::format("gateway \"{}\": namespace \"{}\" must be a DNS label", *g, ns));
    else if (!isDns1123Label(name))
      ctx.error(list[i], p, fmt::format("gateway \"{}\": name \"{}\" must be a DNS label", *g, name));
  }
}

void checkHeaderOperations(const Node* ops, bool request, const std::string& path, ValidationContext& ctx) {
  for (std::string_view op : {"set", "add"}) {
    for (const auto& e : entries(ops, op)) {
      std::string_view name = e.key->text();
      std::string p = keyed(sub(path, op), name);
      bool authority = name == ":authority" || name == "host" || name == "Host" || name == "HOST";
      if (name.empty()) ctx.error(e.key, p, "header name must not be empty");
      else if (name.starts_with(':') && !(request && authority))
        ctx.error(e.key, p, fmt::format("header \"{}\" cannot be changed: pseudo-headers (':') are internal", name));
      else if (!request && authority)
        ctx.error(e.key, p, fmt::format("header \"{}\" cannot be set on responses", name));
      if (auto v = stringOf(e.value)) {
        std::string err = checkHeaderValue(*v);
        if (!err.empty()) ctx.error(e.value, p, err);
      }
    }
  }
  auto removes = items(ops, "remove");
  for (size_t i = 0; i < removes.size(); ++i) {
    std::string_view name = removes[i]->text();
    if (name.starts_with(':') || name == "host" || name == "Host")
      ctx.error(removes[i], at(sub(path, "remove"), i), fmt::format("header \"{}\" cannot be removed", name));
  }
}

void checkHeaders(const Node* owner, const std::string& path, ValidationContext& ctx) {
  const Node* headers = field(owner, "headers");
  if (!isMap(headers)) return;
  checkHeaderOperations(field(headers, "request"), true, sub(sub(path, "headers"), "request"), ctx);
  checkHeaderOperations(field(headers, "response"), false, sub(sub(path, "headers"), "response"), ctx);
}

// HTTPRouteDestination and RouteDestination lists. Since Istio 1.15 weights are relative: each
// must be >= 0 and, with several destinations, they must not all be 0.
void checkRouteDestinations(const Node* route, const std::string& path, bool http, ValidationContext& ctx) {
  auto dests = items(route, "route");
  int64_t total = 0;
  for (size_t i = 0; i < dests.size(); ++i) {
    std::string p = at(sub(path, "route"), i);
    const Node* d = dests[i];
    checkDestination(field(d, "destination"), sub(p, "destination"), ctx);
    const Node* w = field(d, "weight");
    auto weight = intOf(w);
    if (weight && *weight < 0) ctx.error(w, sub(p, "weight"), fmt::format("weight {} must not be negative", *weight));
    total += weight.value_or(0);
    if (http) checkHeaders(d, p, ctx);
  }
  if (dests.size() > 1 && total == 0)
    ctx.error(field(route, "route"), sub(path, "route"), "weights sum to 0: at least one destination needs a positive weight");
}

void checkStringMatch(const Node* sm, const std::string& path, bool delegateRoute, ValidationContext& ctx) {
  if (!isMap(sm)) return;
  const Node* regex = field(sm, "regex");
  if (!regex) return;
  if (delegateRoute) ctx.error(regex, sub(path, "regex"), "regex matches are not supported in delegate routes");
  else checkRegexNode(regex, sub(path, "regex"), ctx);
}

void checkMatch(const VsContext& vs, const Node* m, const std::string& path, bool delegateRoute) {
  ValidationContext& ctx = vs.ctx;
  for (std::string_view f : {"uri", "scheme", "method", "authority"})
    checkStringMatch(field(m, f), sub(path, f), delegateRoute, ctx);
  for (std::string_view f : {"headers", "withoutHeaders"}) {
    for (const auto& e : entries(m, f)) {
      std::string_view name = e.key->text();
      std::string p = keyed(sub(path, f), name);
      if (name.starts_with(kJwtClaimPrefix)) {
        // Istio: JWT claim based routing is only supported for gateways.
        if (!vs.appliesToGateway)
          ctx.error(e.key, p, fmt::format("routing on JWT claim {} is only supported for virtual services bound to gateways", name));
      } else if (std::string err = checkHeaderName(name); !err.empty()) {
        ctx.error(e.key, p, err);
      }
      checkStringMatch(e.value, p, delegateRoute, ctx);
    }
  }
  for (const auto& e : entries(m, "queryParams"))
    checkStringMatch(e.value, keyed(sub(path, "queryParams"), e.key->text()), delegateRoute, ctx);
  if (const Node* port = field(m, "port"); intOf(port).value_or(0) != 0) checkPortNumber(port, sub(path, "port"), ctx);
  checkLabels(field(m, "sourceLabels"), sub(path, "sourceLabels"), ctx);
  checkGatewayNames(m, sub(path, "gateways"), ctx);
  if (const Node* ns = field(m, "sourceNamespace"); stringOf(ns) && !isDns1123Label(ns->text()))
    ctx.error(ns, sub(path, "sourceNamespace"), fmt::format("sourceNamespace \"{}\" must be a DNS label", ns->text()));
}

void checkCors(const Node* cors, const std::string& path, ValidationContext& ctx) {
  if (!isMap(cors)) return;
  auto origins = items(cors, "allowOrigins");
  for (size_t i = 0; i < origins.size(); ++i) {
    std::string p = at(sub(path, "allowOrigins"), i);
    bool set = false;
    for (std::string_view f : {"exact", "prefix", "regex"}) set = set || !text(origins[i], f).empty();
    if (!set) ctx.error(origins[i], p, "allowOrigins entry needs a non-empty exact, prefix or regex");
    if (const Node* re = field(origins[i], "regex")) checkRegexNode(re, sub(p, "regex"), ctx);
  }
  auto methods = items(cors, "allowMethods");
  for (size_t i = 0; i < methods.size(); ++i)
    if (auto m = stringOf(methods[i]); m && !isHttpMethod(*m))
      ctx.error(methods[i], at(sub(path, "allowMethods"), i),
                fmt::format("\"{}\" is not an HTTP method: use GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE", *m));
  for (std::string_view f : {"allowHeaders", "exposeHeaders"}) {
    auto names = items(cors, f);
    for (size_t i = 0; i < names.size(); ++i)
      if (auto n = stringOf(names[i]); n && *n != "*")
        if (std::string err = checkHeaderName(*n); !err.empty()) ctx.error(names[i], at(sub(path, f), i), err);
  }
  const Node* maxAge = field(cors, "maxAge");
  checkIstioDuration(maxAge, sub(path, "maxAge"), ctx);
  if (auto s = stringOf(maxAge)) {
    auto nanos = parseDuration(*s);
    if (nanos && *nanos >= kMillisecond && *nanos % kSecond != 0)
      ctx.error(maxAge, sub(path, "maxAge"), fmt::format("maxAge {} must be whole seconds", *s));
  }
}

void checkFault(const Node* fault, const std::string& path, ValidationContext& ctx) {
  if (!isMap(fault)) return;
  const Node* abort = field(fault, "abort");
  const Node* delay = field(fault, "delay");
  if (!abort && !delay) ctx.error(fault, path, "fault injection needs an abort, a delay or both");
  if (abort) {
    std::string ap = sub(path, "abort");
    checkPercent(field(abort, "percentage"), sub(ap, "percentage"), ctx);
    if (const Node* s = field(abort, "httpStatus")) {
      auto v = intOf(s);
      if (v && (*v < 200 || *v > 599)) ctx.error(s, sub(ap, "httpStatus"), fmt::format("httpStatus {} is out of range 200..599", *v));
    } else if (const Node* g = field(abort, "grpcStatus")) {
      if (auto gs = stringOf(g); gs && !isGrpcStatus(*gs))
        ctx.error(g, sub(ap, "grpcStatus"),
                  fmt::format("gRPC status \"{}\" is not supported: use a code name such as NOT_FOUND or UNAVAILABLE", *gs));
    } else if (const Node* h2 = field(abort, "http2Error")) {
      ctx.error(h2, sub(ap, "http2Error"), "http2Error aborts are not supported yet");
    } else {
      ctx.warning(abort, ap, "abort is configured without httpStatus or grpcStatus");
    }
  }
  if (delay) {
    std::string dp = sub(path, "delay");
    checkPercent(field(delay, "percentage"), sub(dp, "percentage"), ctx);
    checkPercentInt(field(delay, "percent"), sub(dp, "percent"), ctx);
    checkIstioDuration(field(delay, "fixedDelay"), sub(dp, "fixedDelay"), ctx);
    if (const Node* e = field(delay, "exponentialDelay"))
      ctx.error(e, sub(dp, "exponentialDelay"), "exponentialDelay is not supported yet");
  }
}

void checkRedirect(const Node* redirect, const std::string& path, ValidationContext& ctx) {
  if (!isMap(redirect)) return;
  if (!isSet(redirect, "uri") && !isSet(redirect, "authority") && !field(redirect, "port") &&
      !field(redirect, "derivePort") && !isSet(redirect, "scheme"))
    ctx.error(redirect, path, "redirect must set uri, authority, scheme or port");
  const Node* code = field(redirect, "redirectCode");
  if (auto c = intOf(code); c && *c != 0 && (*c < 300 || *c > 399))
    ctx.error(code, sub(path, "redirectCode"), fmt::format("redirectCode {} is out of range 300..399", *c));
  const Node* scheme = field(redirect, "scheme");
  if (auto s = stringOf(scheme); s && *s != "http" && *s != "https")
    ctx.error(scheme, sub(path, "scheme"), fmt::format("redirect scheme \"{}\" is not allowed: use http or https", *s));
  if (const Node* port = field(redirect, "port"); intOf(port).value_or(0) != 0) checkPortNumber(port, sub(path, "port"), ctx);
}

void checkRetries(const Node* retries, const std::string& path, ValidationContext& ctx) {
  if (!isMap(retries)) return;
  const Node* attempts = field(retries, "attempts");
  auto n = intOf(attempts);
  if (n && *n < 0) ctx.error(attempts, sub(path, "attempts"), fmt::format("attempts {} must not be negative", *n));
  if (n.value_or(0) == 0 && (field(retries, "perTryTimeout") || isSet(retries, "retryOn") || field(retries, "retryRemoteLocalities")))
    ctx.error(attempts ? attempts : retries, sub(path, "attempts"),
              "retry policy is configured but attempts is 0 (retries disabled): set attempts");
  checkIstioDuration(field(retries, "perTryTimeout"), sub(path, "perTryTimeout"), ctx);
  checkIstioDuration(field(retries, "backoff"), sub(path, "backoff"), ctx);
  const Node* retryOn = field(retries, "retryOn");
  if (auto s = stringOf(retryOn)) {
    std::string_view rest = *s;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view policy = rest.substr(0, comma);
      while (!policy.empty() && policy.front() == ' ') policy.remove_prefix(1);
      while (!policy.empty() && policy.back() == ' ') policy.remove_suffix(1);
      if (std::string err = checkRetryOnPolicy(policy); !err.empty()) ctx.error(retryOn, sub(path, "retryOn"), err);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
}

void checkRewrite(const Node* route, const std::string& routePath, ValidationContext& ctx) {
  const Node* rewrite = field(route, "rewrite");
  std::string path = sub(routePath, "rewrite");
  if (!isMap(rewrite)) return;
  const Node* regex = field(rewrite, "uriRegexRewrite");
  if (isSet(rewrite, "uri") && regex)
    ctx.error(regex, sub(path, "uriRegexRewrite"), "rewrite may set only one of uri and uriRegexRewrite");
  if (!isSet(rewrite, "uri") && !regex && !isSet(rewrite, "authority"))
    ctx.error(rewrite, path, "rewrite must set uri, uriRegexRewrite or authority");
  if (regex) {
    std::string rp = sub(path, "uriRegexRewrite");
    if (!isSet(regex, "match") || !isSet(regex, "rewrite"))
      ctx.error(regex, rp, "uriRegexRewrite needs both match and rewrite");
    checkRegexNode(field(regex, "match"), sub(rp, "match"), ctx);
  }
  // The authority may be rewritten in one place only.
  if (isSet(rewrite, "authority")) {
    const Node* set = field(field(field(route, "headers"), "request"), "set");
    for (const auto& e : set ? set->entries() : std::span<const MapEntry>()) {
      std::string_view k = e.key->text();
      if (k == ":authority" || k == "host" || k == "Host")
        ctx.error(e.key, keyed(sub(routePath, "headers.request.set"), k), "authority is rewritten twice: by rewrite.authority and by headers.request.set");
    }
  }
}

void checkDirectResponse(const Node* dr, const std::string& path, ValidationContext& ctx) {
  if (!isMap(dr)) return;
  const Node* status = field(dr, "status");
  if (auto s = intOf(status); s && (*s < 200 || *s > 599))
    ctx.error(status, sub(path, "status"), fmt::format("status {} is out of range 200..599", *s));
  const Node* body = field(dr, "body");
  size_t size = text(body, "string").size() + text(body, "bytes").size();
  if (size > 1024 * 1024)
    ctx.error(body, sub(path, "body"), "direct response body is larger than 1MB");
  else if (size > 100 * 1024)
    ctx.warning(body, sub(path, "body"), "large direct response bodies slow down the control plane");
}

void checkHttpRoute(const VsContext& vs, const Node* route, const std::string& path) {
  ValidationContext& ctx = vs.ctx;
  if (!isMap(route)) return;
  const Node* redirect = field(route, "redirect");
  const Node* direct = field(route, "directResponse");
  const Node* delegate = field(route, "delegate");
  bool hasRoute = isSet(route, "route");
  if (delegate) {
    if (vs.delegate) ctx.error(delegate, sub(path, "delegate"), "a delegate virtual service cannot delegate again");
    if (redirect) ctx.error(redirect, sub(path, "redirect"), "a route with delegate cannot also redirect");
    if (field(route, "route")) ctx.error(field(route, "route"), sub(path, "route"), "a route with delegate cannot also set route");
  } else if (redirect) {
    if (hasRoute) ctx.error(redirect, sub(path, "redirect"), "route and redirect cannot both be set");
    if (direct) ctx.error(direct, sub(path, "directResponse"), "redirect and directResponse cannot both be set");
    if (field(route, "fault")) ctx.error(field(route, "fault"), sub(path, "fault"), "fault and redirect cannot both be set");
    if (field(route, "rewrite")) ctx.error(field(route, "rewrite"), sub(path, "rewrite"), "rewrite and redirect cannot both be set");
  } else if (direct) {
    if (hasRoute) ctx.error(direct, sub(path, "directResponse"), "route and directResponse cannot both be set");
    if (field(route, "rewrite")) ctx.error(field(route, "rewrite"), sub(path, "rewrite"), "rewrite and directResponse cannot both be set");
  } else if (!hasRoute) {
    ctx.error(route, path, "http route needs route, redirect, directResponse or delegate");
  }
  bool delegateRoute = vs.delegate || delegate;
  auto matches = items(route, "match");
  for (size_t i = 0; i < matches.size(); ++i) checkMatch(vs, matches[i], at(sub(path, "match"), i), delegateRoute);
  checkHeaders(route, path, ctx);
  checkCors(field(route, "corsPolicy"), sub(path, "corsPolicy"), ctx);
  checkFault(field(route, "fault"), sub(path, "fault"), ctx);
  if (const Node* mp = field(route, "mirrorPercent")) {
    if (intOf(mp).value_or(0) > 100)
      ctx.error(mp, sub(path, "mirrorPercent"), fmt::format("mirrorPercent {} is out of range 0..100", mp->text()));
    ctx.warning(mp, sub(path, "mirrorPercent"), "mirrorPercent is deprecated: use mirrorPercentage");
  }
  if (const Node* mp = field(route, "mirrorPercentage")) {
    const Node* v = field(mp, "value");
    if (auto p = numberOf(v); p && (*p < 0 || *p > 100))
      ctx.error(v, sub(sub(path, "mirrorPercentage"), "value"), fmt::format("mirror percentage {} is out of range 0..100", v->text()));
  }
  if (field(route, "mirror") && isSet(route, "mirrors"))
    ctx.error(field(route, "mirrors"), sub(path, "mirrors"), "mirror and mirrors cannot both be set");
  checkDestination(field(route, "mirror"), sub(path, "mirror"), ctx);
  auto mirrors = items(route, "mirrors");
  for (size_t i = 0; i < mirrors.size(); ++i) {
    std::string mp = at(sub(path, "mirrors"), i);
    checkDestination(field(mirrors[i], "destination"), sub(mp, "destination"), ctx);
    const Node* v = field(field(mirrors[i], "percentage"), "value");
    if (auto p = numberOf(v); p && (*p < 0 || *p > 100))
      ctx.error(v, sub(sub(mp, "percentage"), "value"), fmt::format("mirror percentage {} is out of range 0..100", v->text()));
  }
  checkRedirect(redirect, sub(path, "redirect"), ctx);
  checkDirectResponse(direct, sub(path, "directResponse"), ctx);
  checkRetries(field(route, "retries"), sub(path, "retries"), ctx);
  checkRewrite(route, path, ctx);
  checkRouteDestinations(route, path, true, ctx);
  checkIstioDuration(field(route, "timeout"), sub(path, "timeout"), ctx);
}

void checkL4Match(const Node* m, const std::string& path, ValidationContext& ctx) {
  auto subnets = items(m, "destinationSubnets");
  for (size_t i = 0; i < subnets.size(); ++i)
    if (auto s = stringOf(subnets[i]))
      if (std::string err = checkIpOrCidr(*s); !err.empty()) ctx.error(subnets[i], at(sub(path, "destinationSubnets"), i), err);
  if (const Node* port = field(m, "port"); intOf(port).value_or(0) != 0) checkPortNumber(port, sub(path, "port"), ctx);
  checkLabels(field(m, "sourceLabels"), sub(path, "sourceLabels"), ctx);
  checkGatewayNames(m, sub(path, "gateways"), ctx);
}

void checkTlsRoute(const VsContext& vs, const Node* route, const std::string& path) {
  ValidationContext& ctx = vs.ctx;
  if (!isMap(route)) return;
  auto matches = items(route, "match");
  if (matches.empty()) ctx.error(route, sub(path, "match"), "tls route needs at least one match");
  for (size_t i = 0; i < matches.size(); ++i) {
    std::string mp = at(sub(path, "match"), i);
    auto snis = items(matches[i], "sniHosts");
    if (snis.empty() && field(matches[i], "sniHosts"))
      ctx.error(matches[i], sub(mp, "sniHosts"), "tls match needs at least one sniHost");
    for (size_t j = 0; j < snis.size(); ++j) {
      auto sni = stringOf(snis[j]);
      if (!sni) continue;
      std::string sp = at(sub(mp, "sniHosts"), j);
      if (std::string err = checkWildcardDomain(*sni); !err.empty()) {
        if (isIpAddress(*sni)) ctx.warning(snis[j], sp, fmt::format("SNI host {} is an IP address, which most clients do not send", *sni));
        else ctx.error(snis[j], sp, err);
        continue;
      }
      bool covered = false;
      for (const Node* h : items(vs.spec, "hosts")) covered = covered || hostSubsetOf(*sni, h->text());
      if (!covered)
        ctx.error(snis[j], sp, fmt::format("SNI host \"{}\" is not covered by any of the virtual service hosts", *sni));
    }
    checkL4Match(matches[i], mp, ctx);
  }
  if (!isSet(route, "route")) ctx.error(route, sub(path, "route"), "tls route needs at least one route destination");
  checkRouteDestinations(route, path, false, ctx);
}

void checkTcpRoute(const VsContext& vs, const Node* route, const std::string& path) {
  if (!isMap(route)) return;
  auto matches = items(route, "match");
  for (size_t i = 0; i < matches.size(); ++i) checkL4Match(matches[i], at(sub(path, "match"), i), vs.ctx);
  if (!isSet(route, "route")) vs.ctx.error(route, sub(path, "route"), "tcp route needs at least one route destination");
  checkRouteDestinations(route, path, false, vs.ctx);
}

void checkHosts(const VsContext& vs) {
  auto hosts = items(vs.spec, "hosts");
  bool allValid = true;
  for (size_t i = 0; i < hosts.size(); ++i) {
    auto h = stringOf(hosts[i]);
    if (!h) continue;
    std::string p = at("spec.hosts", i);
    std::string err = checkWildcardDomain(*h);
    if (!err.empty() && !isIpAddress(*h)) {
      vs.ctx.error(hosts[i], p, err);
      allValid = false;
    } else if (err.empty() && !vs.appliesToGateway && *h == "*") {
      vs.ctx.error(hosts[i], p, "host \"*\" is not allowed for virtual services bound to the mesh");
      allValid = false;
    }
  }
  if (!allValid) return;
  for (size_t i = 0; i < hosts.size(); ++i)
    for (size_t j = i + 1; j < hosts.size(); ++j)
      if (hostsOverlap(hosts[i]->text(), hosts[j]->text())) {
        vs.ctx.error(hosts[j], at("spec.hosts", j),
                     fmt::format("duplicate host: \"{}\" overlaps \"{}\"", hosts[j]->text(), hosts[i]->text()));
      }
}

}  // namespace

void validateVirtualService(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  bool mesh = !isSet(spec, "gateways");
  for (const Node* g : items(spec, "gateways")) mesh = mesh || g->text() == "mesh";
  VsContext vs{spec, !isSet(spec, "hosts"), !mesh, ctx};
  if (vs.delegate) {
    // A delegate VirtualService only carries http routes for its root.
    if (isSet(spec, "gateways")) ctx.error(field(spec, "gateways"), "spec.gateways", "a delegate virtual service (no hosts) cannot set gateways");
    if (isSet(spec, "tls")) ctx.error(field(spec, "tls"), "spec.tls", "a delegate virtual service (no hosts) cannot have tls routes");
    if (isSet(spec, "tcp")) ctx.error(field(spec, "tcp"), "spec.tcp", "a delegate virtual service (no hosts) cannot have tcp routes");
  }
  checkGatewayNames(spec, "spec.gateways", ctx);
  checkHosts(vs);
  if (!isSet(spec, "http") && !isSet(spec, "tcp") && !isSet(spec, "tls"))
    ctx.error(spec ? spec : &r.root(), "spec", "virtual service needs http, tcp or tls routes");
  auto http = items(spec, "http");
  for (size_t i = 0; i < http.size(); ++i) checkHttpRoute(vs, http[i], at("spec.http", i));
  auto tls = items(spec, "tls");
  for (size_t i = 0; i < tls.size(); ++i) checkTlsRoute(vs, tls[i], at("spec.tls", i));
  auto tcp = items(spec, "tcp");
  for (size_t i = 0; i < tcp.size(); ++i) checkTcpRoute(vs, tcp[i], at("spec.tcp", i));
  checkExportTo(spec, r.namespace_(), false, false, ctx);
  for (std::string_view section : {"http", "tcp", "tls"}) checkUnreachableRules(spec, section, ctx);
}

}  // namespace mesh::core
