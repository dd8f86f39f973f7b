// RouteConfiguration → RouteConfig: virtual hosts and their domain index, route matches,
// actions (cluster, weighted clusters, redirect, direct response), retries, mirrors, hashing,
// header mutations and the fault filter's per-route config. Envoy's field semantics throughout.
#include <algorithm>

// Envoy still honours the deprecated header matcher fields older control planes send.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "envoy/config/route/v3/route.pb.h"
#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/config_compiler.h"

namespace mesh::proxy::dataplane {

namespace detail {

namespace rv3 = envoy::config::route::v3;
constexpr const char* kFaultFilter = "envoy.filters.http.fault";

Result<HeaderMatcher> compileHeaderMatcher(const rv3::HeaderMatcher& m, const std::string& where) {
  HeaderMatcher out;
  out.name = lower(m.name());
  out.invert = m.invert_match();
  out.treatMissingAsEmpty = m.treat_missing_header_as_empty();
  if (out.name.empty()) return invalid(where, "header matcher without a name");
  auto literal = [&](StringMatch::Kind kind, const std::string& value) {
    out.kind = HeaderMatcher::Kind::Value;
    out.value.kind = kind;
    out.value.value = value;
  };
  switch (m.header_match_specifier_case()) {
    case rv3::HeaderMatcher::kExactMatch: literal(StringMatch::Kind::Exact, m.exact_match()); break;
    case rv3::HeaderMatcher::kPrefixMatch: literal(StringMatch::Kind::Prefix, m.prefix_match()); break;
    case rv3::HeaderMatcher::kSuffixMatch: literal(StringMatch::Kind::Suffix, m.suffix_match()); break;
    case rv3::HeaderMatcher::kContainsMatch:
      literal(StringMatch::Kind::Contains, m.contains_match());
      break;
    case rv3::HeaderMatcher::kSafeRegexMatch: {
      auto re = compileRegex(m.safe_regex_match(), where + ".safe_regex_match");
      if (!re) return Failure(re.error());
      out.kind = HeaderMatcher::Kind::Value;
      out.value.kind = StringMatch::Kind::Regex;
      out.value.regex = *re;
      break;
    }
    case rv3::HeaderMatcher::kStringMatch: {
      auto sm = compileStringMatch(m.string_match(), where + ".string_match");
      if (!sm) return Failure(sm.error());
      out.kind = HeaderMatcher::Kind::Value;
      out.value = std::move(*sm);
      break;
    }
    case rv3::HeaderMatcher::kRangeMatch:
      out.kind = HeaderMatcher::Kind::Range;
      out.rangeStart = m.range_match().start();
      out.rangeEnd = m.range_match().end();
      break;
    case rv3::HeaderMatcher::kPresentMatch:
      out.kind = HeaderMatcher::Kind::Present;
      out.presentMatch = m.present_match();
      break;
    default:
      out.kind = HeaderMatcher::Kind::Present;  // no specifier: the header must be present
      break;
  }
  return out;
}

Result<std::shared_ptr<const FaultConfig>> compileFault(
    const envoy::extensions::filters::http::fault::v3::HTTPFault& fault, const std::string& where) {
  auto out = std::make_shared<FaultConfig>();
  if (fault.has_delay()) {
    FaultConfig::Delay d;
    if (fault.delay().has_fixed_delay()) {
      d.fixed = toMillis(fault.delay().fixed_delay());
    } else if (fault.delay().has_header_delay()) {
      d.fromHeader = true;
    } else {
      return invalid(where + ".delay", "needs fixed_delay or header_delay");
    }
    d.fraction = toFraction(fault.delay().percentage());
    out->delay = d;
  }
  if (fault.has_abort()) {
    FaultConfig::Abort a;
    const auto& abort = fault.abort();
    if (abort.has_header_abort()) {
      a.fromHeader = true;
    } else if (abort.error_type_case() == abort.kGrpcStatus) {
      a.grpcStatus = abort.grpc_status();
      a.httpStatus = 200;
    } else if (abort.error_type_case() == abort.kHttpStatus) {
      if (abort.http_status() < 200 || abort.http_status() >= 600) {
        return invalid(where + ".abort.http_status", "must be in [200, 600)");
      }
      a.httpStatus = abort.http_status();
    } else {
      return invalid(where + ".abort", "needs http_status, grpc_status or header_abort");
    }
    a.fraction = toFraction(abort.percentage());
    out->abort = a;
  }
  if (fault.has_response_rate_limit()) {
    return invalid(where + ".response_rate_limit", "not supported");
  }
  for (int i = 0; i < fault.headers_size(); ++i) {
    auto hm = compileHeaderMatcher(fault.headers(i), where + ".headers[" + std::to_string(i) + "]");
    if (!hm) return Failure(hm.error());
    out->headers.push_back(std::move(*hm));
  }
  for (const auto& node : fault.downstream_nodes()) out->downstreamNodes.push_back(node);
  if (fault.has_max_active_faults()) out->maxActiveFaults = fault.max_active_faults().value();
  return std::shared_ptr<const FaultConfig>(std::move(out));
}

Result<std::shared_ptr<const FaultConfig>> compileFaultAny(const google::protobuf::Any& any,
                                                           const std::string& where) {
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  if (any.Is<rv3::FilterConfig>()) {
    rv3::FilterConfig wrapper;
    if (!any.UnpackTo(&wrapper)) return invalid(where, "cannot decode FilterConfig");
    if (wrapper.disabled()) return std::shared_ptr<const FaultConfig>();
    if (!wrapper.config().UnpackTo(&fault)) return invalid(where, "cannot decode HTTPFault");
  } else if (!any.UnpackTo(&fault)) {
    return invalid(where, "expected envoy.extensions.filters.http.fault.v3.HTTPFault, got " +
                              any.type_url());
  }
  return compileFault(fault, where);
}

}  // namespace detail

namespace {

using namespace detail;

Result<RetryPolicy> compileRetryPolicy(const rv3::RetryPolicy& p, const std::string& where) {
  RetryPolicy out;
  size_t pos = 0;
  const std::string& on = p.retry_on();
  while (pos <= on.size()) {
    size_t comma = on.find(',', pos);
    if (comma == std::string::npos) comma = on.size();
    std::string token = on.substr(pos, comma - pos);
    token.erase(0, token.find_first_not_of(' '));
    token.erase(token.find_last_not_of(' ') + 1);
    pos = comma + 1;
    if (token.empty()) continue;
    if (token == "5xx") out.retryOn |= kRetry5xx;
    else if (token == "gateway-error") out.retryOn |= kRetryGatewayError;
    else if (token == "connect-failure") out.retryOn |= kRetryConnectFailure;
    else if (token == "reset") out.retryOn |= kRetryReset;
    else if (token == "retriable-4xx") out.retryOn |= kRetryRetriable4xx;
    else if (token == "retriable-status-codes") out.retryOn |= kRetryRetriableStatusCodes;
    else if (token == "refused-stream") out.retryOn |= kRetryRefusedStream;
    // gRPC and header-driven conditions need HTTP/2 or response-header matching this proxy
    // does not do yet; Envoy ignores unknown conditions too, so they are skipped, not refused.
  }
  if (p.has_num_retries()) out.numRetries = p.num_retries().value();
  if (p.has_per_try_timeout()) out.perTryTimeout = toMillis(p.per_try_timeout());
  if (p.has_retry_back_off()) {
    out.baseInterval = toMillis(p.retry_back_off().base_interval());
    if (out.baseInterval.count() <= 0) return invalid(where, "retry_back_off.base_interval must be > 0");
    out.maxInterval = p.retry_back_off().has_max_interval()
                          ? toMillis(p.retry_back_off().max_interval())
                          : out.baseInterval * 10;
    if (out.maxInterval < out.baseInterval) {
      return invalid(where, "retry_back_off.max_interval is below base_interval");
    }
  }
  for (uint32_t code : p.retriable_status_codes()) out.retriableStatusCodes.push_back(code);
  if (p.host_selection_retry_max_attempts() > 0) {
    out.hostSelectionMaxAttempts = static_cast<uint32_t>(p.host_selection_retry_max_attempts());
  }
  for (const auto& pred : p.retry_host_predicate()) {
    if (pred.name() == "envoy.retry_host_predicates.previous_hosts") out.avoidPreviousHosts = true;
  }
  return out;
}

Result<RouteMatch> compileMatch(const rv3::RouteMatch& m, const std::string& where) {
  RouteMatch out;
  out.caseSensitive = !m.has_case_sensitive() || m.case_sensitive().value();
  switch (m.path_specifier_case()) {
    case rv3::RouteMatch::kPrefix:
      out.pathKind = RouteMatch::PathKind::Prefix;
      out.path = m.prefix();
      break;
    case rv3::RouteMatch::kPath:
      out.pathKind = RouteMatch::PathKind::Path;
      out.path = m.path();
      break;
    case rv3::RouteMatch::kSafeRegex: {
      out.pathKind = RouteMatch::PathKind::Regex;
      auto re = compileRegex(m.safe_regex(), where + ".safe_regex");
      if (!re) return Failure(re.error());
      out.regex = *re;
      break;
    }
    case rv3::RouteMatch::kPathSeparatedPrefix:
      out.pathKind = RouteMatch::PathKind::PathSeparatedPrefix;
      out.path = m.path_separated_prefix();
      if (out.path.find_first_of("?#") != std::string::npos ||
          (out.path.size() > 1 && out.path.back() == '/')) {
        return invalid(where + ".path_separated_prefix", "must not end in / or hold ? or #");
      }
      break;
    case rv3::RouteMatch::kConnectMatcher: out.pathKind = RouteMatch::PathKind::Connect; break;
    default:
      return invalid(where, "path specifier not supported (path_match_policy)");
  }
  if (!out.caseSensitive && out.pathKind != RouteMatch::PathKind::Regex) out.path = lower(out.path);
  for (int i = 0; i < m.headers_size(); ++i) {
    auto hm = compileHeaderMatcher(m.headers(i), where + ".headers[" + std::to_string(i) + "]");
    if (!hm) return Failure(hm.error());
    out.headers.push_back(std::move(*hm));
  }
  for (int i = 0; i < m.query_parameters_size(); ++i) {
    const auto& q = m.query_parameters(i);
    QueryParameterMatcher qm;
    qm.name = q.name();
    if (q.has_string_match()) {
      auto sm = compileStringMatch(q.string_match(),
                                   where + ".query_parameters[" + std::to_string(i) + "]");
      if (!sm) return Failure(sm.error());
      qm.value = std::move(*sm);
    }
    out.queryParameters.push_back(std::move(qm));
  }
  if (m.has_runtime_fraction()) out.runtimeFraction = toFraction(m.runtime_fraction().default_value());
  out.grpcOnly = m.has_grpc();
  if (m.has_tls_context() || m.dynamic_metadata_size() > 0) {
    return invalid(where, "tls_context, dynamic_metadata and filter_state matches are not supported");
  }
  return out;
}

Result<void> compileTypedPerFilter(
    const google::protobuf::Map<std::string, google::protobuf::Any>& typed,
    std::shared_ptr<const FaultConfig>& fault, const std::string& where) {
  auto it = typed.find(kFaultFilter);
  if (it == typed.end()) return {};
  auto f = compileFaultAny(it->second, where + ".typed_per_filter_config[" + kFaultFilter + "]");
  if (!f) return Failure(f.error());
  fault = *f;
  return {};
}

Result<RouteAction> compileAction(const rv3::RouteAction& a, const std::string& where) {
  RouteAction out;
  switch (a.cluster_specifier_case()) {
    case rv3::RouteAction::kCluster: out.cluster = a.cluster(); break;
    case rv3::RouteAction::kClusterHeader: out.clusterHeader = lower(a.cluster_header()); break;
    case rv3::RouteAction::kWeightedClusters: {
      for (int i = 0; i < a.weighted_clusters().clusters_size(); ++i) {
        const auto& c = a.weighted_clusters().clusters(i);
        std::string w = where + ".weighted_clusters.clusters[" + std::to_string(i) + "]";
        WeightedCluster wc;
        wc.name = c.name();
        wc.clusterHeader = lower(c.cluster_header());
        wc.weight = c.has_weight() ? c.weight().value() : 0;
        auto req = compileHeaderMutation(c.request_headers_to_add(), c.request_headers_to_remove(), w);
        if (!req) return Failure(req.error());
        auto resp = compileHeaderMutation(c.response_headers_to_add(), c.response_headers_to_remove(), w);
        if (!resp) return Failure(resp.error());
        wc.requestHeaders = std::move(*req);
        wc.responseHeaders = std::move(*resp);
        auto typed = compileTypedPerFilter(c.typed_per_filter_config(), wc.fault, w);
        if (!typed) return Failure(typed.error());
        if (wc.name.empty() && wc.clusterHeader.empty()) return invalid(w, "needs name or cluster_header");
        out.totalWeight += wc.weight;
        out.weightedClusters.push_back(std::move(wc));
      }
      if (out.weightedClusters.empty()) return invalid(where + ".weighted_clusters", "no clusters");
      if (out.totalWeight == 0) return invalid(where + ".weighted_clusters", "sum of weights is 0");
      break;
    }
    default:
      return invalid(where, "cluster specifier not supported (cluster_specifier_plugin, inline)");
  }
  if (a.cluster_not_found_response_code() == rv3::RouteAction::NOT_FOUND) out.clusterNotFoundCode = 404;
  else if (a.cluster_not_found_response_code() == rv3::RouteAction::INTERNAL_SERVER_ERROR)
    out.clusterNotFoundCode = 500;
  if (!a.prefix_rewrite().empty()) out.prefixRewrite = a.prefix_rewrite();
  if (a.has_regex_rewrite()) {
    auto re = compileRegex(a.regex_rewrite().pattern(), where + ".regex_rewrite.pattern");
    if (!re) return Failure(re.error());
    out.regexRewrite = *re;
    out.regexSubstitution = a.regex_rewrite().substitution();
  }
  switch (a.host_rewrite_specifier_case()) {
    case rv3::RouteAction::kHostRewriteLiteral: out.hostRewriteLiteral = a.host_rewrite_literal(); break;
    case rv3::RouteAction::kAutoHostRewrite: out.autoHostRewrite = a.auto_host_rewrite().value(); break;
    case rv3::RouteAction::kHostRewriteHeader: out.hostRewriteHeader = lower(a.host_rewrite_header()); break;
    case rv3::RouteAction::HOST_REWRITE_SPECIFIER_NOT_SET: break;
    default: return invalid(where, "host_rewrite_path_regex is not supported");
  }
  if (a.has_timeout()) out.timeout = toMillis(a.timeout());
  if (a.has_retry_policy()) {
    auto rp = compileRetryPolicy(a.retry_policy(), where + ".retry_policy");
    if (!rp) return Failure(rp.error());
    out.retryPolicy = std::move(*rp);
  }
  for (int i = 0; i < a.request_mirror_policies_size(); ++i) {
    const auto& m = a.request_mirror_policies(i);
    MirrorPolicy mp;
    mp.cluster = m.cluster();
    if (mp.cluster.empty()) {
      return invalid(where + ".request_mirror_policies[" + std::to_string(i) + "]", "needs cluster");
    }
    if (m.has_runtime_fraction()) mp.fraction = toFraction(m.runtime_fraction().default_value());
    out.mirrors.push_back(std::move(mp));
  }
  for (const auto& u : a.upgrade_configs()) {
    std::string type = lower(u.upgrade_type());
    if (u.has_connect_config()) {
      if (type != "connect") return invalid(where + ".upgrade_configs", "connect_config needs upgrade_type CONNECT");
      if (u.connect_config().has_proxy_protocol_config() || u.connect_config().allow_post()) {
        return invalid(where + ".upgrade_configs.connect_config", "proxy_protocol_config and allow_post are not supported");
      }
      out.connectTerminate = true;
    }
    out.upgrades[type] = !u.has_enabled() || u.enabled().value();
  }
  if (a.has_idle_timeout()) out.idleTimeout = toMillis(a.idle_timeout());
  for (int i = 0; i < a.hash_policy_size(); ++i) {
    const auto& h = a.hash_policy(i);
    HashPolicy hp;
    hp.terminal = h.terminal();
    switch (h.policy_specifier_case()) {
      case rv3::RouteAction::HashPolicy::kHeader:
        hp.kind = HashPolicy::Kind::Header;
        hp.name = lower(h.header().header_name());
        break;
      case rv3::RouteAction::HashPolicy::kCookie:
        if (h.cookie().has_ttl()) {
          return invalid(where + ".hash_policy", "cookie with ttl (generated cookies) is not supported");
        }
        hp.kind = HashPolicy::Kind::Cookie;
        hp.name = h.cookie().name();
        break;
      case rv3::RouteAction::HashPolicy::kConnectionProperties:
        hp.kind = HashPolicy::Kind::SourceIp;
        break;
      case rv3::RouteAction::HashPolicy::kQueryParameter:
        hp.kind = HashPolicy::Kind::QueryParameter;
        hp.name = h.query_parameter().name();
        break;
      default: return invalid(where + ".hash_policy", "only header, cookie, source ip and query");
    }
    out.hashPolicies.push_back(std::move(hp));
  }
  return out;
}

Result<RedirectAction> compileRedirect(const rv3::RedirectAction& r, const std::string& where) {
  RedirectAction out;
  if (r.https_redirect()) out.scheme = "https";
  if (!r.scheme_redirect().empty()) out.scheme = lower(r.scheme_redirect());
  out.host = r.host_redirect();
  out.port = r.port_redirect();
  if (!r.path_redirect().empty()) out.path = r.path_redirect();
  if (!r.prefix_rewrite().empty()) out.prefixRewrite = r.prefix_rewrite();
  if (r.has_regex_rewrite()) {
    auto re = compileRegex(r.regex_rewrite().pattern(), where + ".regex_rewrite.pattern");
    if (!re) return Failure(re.error());
    out.regexRewrite = *re;
    out.regexSubstitution = r.regex_rewrite().substitution();
  }
  switch (r.response_code()) {
    case rv3::RedirectAction::FOUND: out.responseCode = 302; break;
    case rv3::RedirectAction::SEE_OTHER: out.responseCode = 303; break;
    case rv3::RedirectAction::TEMPORARY_REDIRECT: out.responseCode = 307; break;
    case rv3::RedirectAction::PERMANENT_REDIRECT: out.responseCode = 308; break;
    default: out.responseCode = 301; break;
  }
  out.stripQuery = r.strip_query();
  return out;
}

Result<Route> compileRoute(const rv3::Route& r, const std::string& where) {
  Route out;
  out.name = r.name();
  auto match = compileMatch(r.match(), where + ".match");
  if (!match) return Failure(match.error());
  out.match = std::move(*match);
  switch (r.action_case()) {
    case rv3::Route::kRoute: {
      auto a = compileAction(r.route(), where + ".route");
      if (!a) return Failure(a.error());
      out.action = std::move(*a);
      break;
    }
    case rv3::Route::kRedirect: {
      auto a = compileRedirect(r.redirect(), where + ".redirect");
      if (!a) return Failure(a.error());
      out.action = std::move(*a);
      break;
    }
    case rv3::Route::kDirectResponse: {
      DirectResponse d;
      d.status = r.direct_response().status();
      if (d.status < 200 || d.status >= 600) {
        return invalid(where + ".direct_response.status", "must be in [200, 600)");
      }
      const auto& body = r.direct_response().body();
      if (!body.filename().empty()) {
        return invalid(where + ".direct_response.body", "filename bodies are not supported");
      }
      d.body = body.has_inline_bytes() ? body.inline_bytes() : body.inline_string();
      if (d.body.size() > 4096) {
        return invalid(where + ".direct_response.body", "longer than 4096 bytes (Envoy's limit)");
      }
      out.action = std::move(d);
      break;
    }
    default: return invalid(where, "action not supported (filter_action, non_forwarding_action)");
  }
  auto req = compileHeaderMutation(r.request_headers_to_add(), r.request_headers_to_remove(), where);
  if (!req) return Failure(req.error());
  auto resp = compileHeaderMutation(r.response_headers_to_add(), r.response_headers_to_remove(), where);
  if (!resp) return Failure(resp.error());
  out.requestHeaders = std::move(*req);
  out.responseHeaders = std::move(*resp);
  auto typed = compileTypedPerFilter(r.typed_per_filter_config(), out.fault, where);
  if (!typed) return Failure(typed.error());
  return out;
}

}  // namespace

Result<std::shared_ptr<const RouteConfig>> compileRouteConfig(const rv3::RouteConfiguration& config) {
  auto out = std::make_shared<RouteConfig>();
  out->name = config.name();
  std::string base = "RouteConfiguration " + config.name();
  auto req = compileHeaderMutation(config.request_headers_to_add(), config.request_headers_to_remove(), base);
  if (!req) return Failure(req.error());
  auto resp = compileHeaderMutation(config.response_headers_to_add(), config.response_headers_to_remove(), base);
  if (!resp) return Failure(resp.error());
  out->requestHeaders = std::move(*req);
  out->responseHeaders = std::move(*resp);
  out->ignorePortInHostMatching = config.ignore_port_in_host_matching();
  for (int v = 0; v < config.virtual_hosts_size(); ++v) {
    const auto& vh = config.virtual_hosts(v);
    std::string where = base + ": virtual_hosts[" + std::to_string(v) + "] (" + vh.name() + ")";
    VirtualHost host;
    host.name = vh.name();
    if (vh.domains_size() == 0) return invalid(where, "no domains");
    for (const auto& d : vh.domains()) {
      std::string domain = lower(d);
      size_t index = out->virtualHosts.size();
      if (domain == "*") {
        if (out->defaultHost) return invalid(where, "only one virtual host may have domain \"*\"");
        out->defaultHost = index;
      } else if (domain.size() > 1 && domain.front() == '*') {
        out->suffixDomains.emplace_back(domain.substr(1), index);
      } else if (domain.size() > 1 && domain.back() == '*') {
        out->prefixDomains.emplace_back(domain.substr(0, domain.size() - 1), index);
      } else if (domain.find('*') != std::string::npos) {
        return invalid(where, "domain \"" + d + "\": a wildcard must be the first or last character");
      } else if (!out->exactDomains.emplace(domain, index).second) {
        return invalid(where, "domain \"" + d + "\" is in more than one virtual host");
      }
      host.domains.push_back(std::move(domain));
    }
    if (vh.require_tls() != rv3::VirtualHost::NONE) {
      return invalid(where, "require_tls needs TLS, which this proxy does not serve yet");
    }
    for (int r = 0; r < vh.routes_size(); ++r) {
      auto route = compileRoute(vh.routes(r), where + ".routes[" + std::to_string(r) + "]");
      if (!route) return Failure(route.error());
      host.routes.push_back(std::move(*route));
    }
    auto vreq = compileHeaderMutation(vh.request_headers_to_add(), vh.request_headers_to_remove(), where);
    if (!vreq) return Failure(vreq.error());
    auto vresp = compileHeaderMutation(vh.response_headers_to_add(), vh.response_headers_to_remove(), where);
    if (!vresp) return Failure(vresp.error());
    host.requestHeaders = std::move(*vreq);
    host.responseHeaders = std::move(*vresp);
    if (vh.has_retry_policy()) {
      auto rp = compileRetryPolicy(vh.retry_policy(), where + ".retry_policy");
      if (!rp) return Failure(rp.error());
      host.retryPolicy = std::move(*rp);
    }
    auto typed = compileTypedPerFilter(vh.typed_per_filter_config(), host.fault, where);
    if (!typed) return Failure(typed.error());
    out->virtualHosts.push_back(std::move(host));
  }
  auto longestFirst = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
  std::stable_sort(out->suffixDomains.begin(), out->suffixDomains.end(), longestFirst);
  std::stable_sort(out->prefixDomains.begin(), out->prefixDomains.end(), longestFirst);
  return std::shared_ptr<const RouteConfig>(std::move(out));
}

}  // namespace mesh::proxy::dataplane
