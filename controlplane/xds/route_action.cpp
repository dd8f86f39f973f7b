#include "controlplane/xds/route_action.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/traffic_policy.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::core::v3::HeaderValueOption;
using envoy::config::route::v3::RedirectAction;
using envoy::config::route::v3::RetryPolicy;
using envoy::config::route::v3::RouteAction;
using model::text;

// The status codes Go's net/http knows (http.StatusText != ""): Istio counts only those as
// retriable status codes in retryOn.
bool knownHttpStatus(int code) {
  if (code >= 100 && code <= 103) return true;
  if ((code >= 200 && code <= 208) || code == 226) return true;
  if (code >= 300 && code <= 308) return code != 306;
  if (code >= 400 && code <= 418) return true;
  if ((code >= 421 && code <= 426) || code == 428 || code == 429 || code == 431 || code == 451) return true;
  return (code >= 500 && code <= 508) || code == 510 || code == 511;
}

// The retry_on conditions gRPC's xDS client implements (gRFC A44).
bool isGrpcRetryOn(std::string_view s) {
  static constexpr std::array<std::string_view, 5> kNames = {"cancelled", "deadline-exceeded", "internal",
                                                             "resource-exhausted", "unavailable"};
  return std::ranges::find(kNames, s) != kNames.end();
}

std::vector<std::string_view> splitCommas(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

// Envoy's built-in predicate; its config message is empty, so the Any carries no bytes.
void addPreviousHostsPredicate(RetryPolicy& p) {
  auto* pred = p.add_retry_host_predicate();
  pred->set_name("envoy.retry_host_predicates.previous_hosts");
  pred->mutable_typed_config()->set_type_url(
      "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate");
}

RetryPolicy istioDefaultRetryPolicy(bool consistentHash) {
  RetryPolicy p;
  p.mutable_num_retries()->set_value(2);
  p.set_retry_on("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  p.set_host_selection_retry_max_attempts(5);
  p.add_retriable_status_codes(503);
  if (!consistentHash) addPreviousHostsPredicate(p);
  return p;
}

std::vector<HeaderValueOption> headerValues(const Node* map, bool append, std::string* authority) {
  std::vector<std::pair<std::string, std::string>> kv;
  if (map)
    for (const auto& e : map->entries()) kv.emplace_back(e.key->text(), e.value ? e.value->text() : "");
  std::ranges::stable_sort(kv, {}, &std::pair<std::string, std::string>::first);
  std::vector<HeaderValueOption> out;
  for (const auto& [k, v] : kv) {
    std::string lower = k;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (authority && (lower == ":authority" || lower == "host")) *authority = v;
    if (k.starts_with(':') || lower == "host") continue;  // Envoy may not modify these
    HeaderValueOption o;
    o.mutable_header()->set_key(k);
    o.mutable_header()->set_value(v);
    o.set_append_action(append ? HeaderValueOption::APPEND_IF_EXISTS_OR_ADD
                               : HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> removals(const Node* seq) {
  std::vector<std::string> out;
  for (std::string& h : model::stringList(seq)) {
    std::string lower = h;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!h.starts_with(':') && lower != "host") out.push_back(std::move(h));
  }
  return out;
}

std::string base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;  // padding and whitespace
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::string resolveHost(std::string_view host, std::string_view ns, std::string_view domain) {
  if (host.empty() || host.starts_with('*') || host.find('.') != std::string_view::npos) return std::string(host);
  return fmt::format("{}.{}.svc.{}", host, ns, domain);
}

std::string ResolvedDestination::cluster() const { return outboundCluster(port, subset, host); }

ResolvedDestination resolveDestination(const ProxyView& view, const Node* destination, std::string_view ns,
                                       uint32_t listenPort) {
  ResolvedDestination d;
  d.host = resolveHost(text(destination, "host"), ns, view.snapshot.options().domain);
  d.subset = std::string(text(destination, "subset"));
  d.service = view.snapshot.service(d.host, view.proxy.namespace_);
  d.port = listenPort;
  if (auto n = model::uint32At(destination ? destination->get("port") : nullptr, "number")) d.port = *n;
  else if (d.service && d.service->ports.size() == 1) d.port = d.service->ports.front().port;
  return d;
}

std::optional<RetryPolicy> retryPolicy(const Node* retries, bool consistentHash, RouteFlavor flavor) {
  RetryPolicy out = istioDefaultRetryPolicy(consistentHash);
  if (retries) {
    auto attempts = retries->get("attempts") ? retries->get("attempts")->asInt() : std::nullopt;
    if (attempts.value_or(0) <= 0) return std::nullopt;  // explicitly disabled
    out.mutable_num_retries()->set_value(static_cast<uint32_t>(*attempts));
    if (std::string_view on = text(retries, "retryOn"); !on.empty()) {
      // Numbers that are HTTP statuses become retriable_status_codes; the rest stay retry_on.
      std::vector<std::string_view> conditions;
      out.clear_retriable_status_codes();
      for (std::string_view part : splitCommas(on)) {
        int code = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), code);
        if (ec == std::errc() && p == part.data() + part.size() && knownHttpStatus(code))
          out.add_retriable_status_codes(static_cast<uint32_t>(code));
        else
          conditions.push_back(part);
      }
      std::string joined = join(conditions);
      if (out.retriable_status_codes_size() > 0 && joined.find("retriable-status-codes") == std::string::npos)
        joined += joined.empty() ? "retriable-status-codes" : ",retriable-status-codes";
      out.set_retry_on(joined);
    }
    setDurationFrom(*out.mutable_per_try_timeout(), retries, "perTryTimeout");
    if (auto ignore = model::boolAt(retries, "retryIgnorePreviousHosts")) {
      out.clear_retry_host_predicate();
      if (*ignore) addPreviousHostsPredicate(out);
    }
    if (model::boolAt(retries, "retryRemoteLocalities").value_or(false)) {
      // PreviousPrioritiesConfig{update_frequency: 2}, encoded by hand (field 1, varint 2):
      // the message is not in our generated API subset.
      auto* prio = out.mutable_retry_priority();
      prio->set_name("envoy.retry_priorities.previous_priorities");
      prio->mutable_typed_config()->set_type_url(
          "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig");
      prio->mutable_typed_config()->set_value(std::string("\x08\x02", 2));
    }
    // Envoy requires a positive base interval.
    if (auto backoff = durationNanosAt(retries, "backoff"); backoff && *backoff > 0)
      setDuration(*out.mutable_retry_back_off()->mutable_base_interval(), *backoff);
  }
  if (flavor == RouteFlavor::ProxylessGrpc) {
    std::vector<std::string_view> grpc;
    for (std::string_view c : splitCommas(out.retry_on()))
      if (isGrpcRetryOn(c)) grpc.push_back(c);
    if (grpc.empty()) return std::nullopt;  // nothing gRPC would retry on
    RetryPolicy g;
    g.set_retry_on(join(grpc));
    *g.mutable_num_retries() = out.num_retries();
    // gRPC C-core 1.51 rejects a retry policy without a positive backoff (it does not default
    // it as Envoy does), so give Envoy's defaults explicitly: 25 ms base, 10x that at most.
    if (out.has_retry_back_off()) *g.mutable_retry_back_off() = out.retry_back_off();
    auto* backoff = g.mutable_retry_back_off();
    if (!backoff->has_base_interval()) setDuration(*backoff->mutable_base_interval(), 25'000'000);
    if (!backoff->has_max_interval()) {
      const auto& base = backoff->base_interval();
      setDuration(*backoff->mutable_max_interval(), 10 * (base.seconds() * 1'000'000'000 + base.nanos()));
    }
    return g;
  }
  return out;
}

void setRouteTimeout(RouteAction& action, std::optional<int64_t> timeoutNanos, RouteFlavor flavor) {
  int64_t ns = timeoutNanos.value_or(0);
  if (flavor == RouteFlavor::ProxylessGrpc) {
    auto* msd = action.mutable_max_stream_duration();
    setDuration(*msd->mutable_max_stream_duration(), ns);
    setDuration(*msd->mutable_grpc_timeout_header_max(), ns);
    return;
  }
  setDuration(*action.mutable_timeout(), ns);
  // Istio still sets the deprecated max_grpc_timeout (MaxStreamDuration had regressions), so
  // gRPC callers' grpc-timeout headers are honoured up to the route timeout (0: unbounded).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  setDuration(*action.mutable_max_grpc_timeout(), ns);
#pragma GCC diagnostic pop
}

bool applyRedirect(envoy::config::route::v3::Route& out, const Node* redirect, uint32_t listenPort, bool tls) {
  RedirectAction r;
  if (auto v = text(redirect, "authority"); !v.empty()) r.set_host_redirect(std::string(v));
  if (auto v = text(redirect, "uri"); !v.empty()) r.set_path_redirect(std::string(v));
  std::string_view scheme = text(redirect, "scheme");
  if (!scheme.empty()) r.set_scheme_redirect(std::string(scheme));
  std::optional<uint32_t> port = model::uint32At(redirect, "port");
  std::string_view derive = text(redirect, "derivePort");
  if (port || !derive.empty()) {
    // Envoy cannot derive the port per request, but these routes serve one known port.
    if (port) r.set_port_redirect(*port);
    else if (derive == "FROM_REQUEST_PORT") r.set_port_redirect(listenPort);
    std::string_view effective = scheme.empty() ? (tls ? "https" : "http") : scheme;
    // No explicit :80 for http or :443 for https.
    if ((r.port_redirect() == 80 && effective == "http") || (r.port_redirect() == 443 && effective == "https"))
      r.set_port_redirect(0);
  }
  switch (model::uint32At(redirect, "redirectCode").value_or(301)) {
    case 301: r.set_response_code(RedirectAction::MOVED_PERMANENTLY); break;
    case 302: r.set_response_code(RedirectAction::FOUND); break;
    case 303: r.set_response_code(RedirectAction::SEE_OTHER); break;
    case 307: r.set_response_code(RedirectAction::TEMPORARY_REDIRECT); break;
    case 308: r.set_response_code(RedirectAction::PERMANENT_REDIRECT); break;
    default: return false;
  }
  *out.mutable_redirect() = std::move(r);
  return true;
}

void applyDirectResponse(envoy::config::route::v3::Route& out, const Node* directResponse) {
  auto* dr = out.mutable_direct_response();
  dr->set_status(model::uint32At(directResponse, "status").value_or(200));
  const Node* body = directResponse ? directResponse->get("body") : nullptr;
  if (const Node* s = body ? body->get("string") : nullptr)
    dr->mutable_body()->set_inline_string(std::string(s->text()));
  else if (const Node* b = body ? body->get("bytes") : nullptr)
    dr->mutable_body()->set_inline_bytes(base64Decode(b->text()));  // bytes arrive base64, as in JSON
}

HeaderOperations headerOperations(const Node* headers) {
  HeaderOperations out;
  const Node* req = headers ? headers->get("request") : nullptr;
  const Node* resp = headers ? headers->get("response") : nullptr;
  std::string setAuthority, addAuthority;
  out.requestToAdd = headerValues(req ? req->get("set") : nullptr, false, &setAuthority);
  for (auto& h : headerValues(req ? req->get("add") : nullptr, true, &addAuthority))
    out.requestToAdd.push_back(std::move(h));
  out.responseToAdd = headerValues(resp ? resp->get("set") : nullptr, false, nullptr);
  for (auto& h : headerValues(resp ? resp->get("add") : nullptr, true, nullptr))
    out.responseToAdd.push_back(std::move(h));
  out.requestToRemove = removals(req ? req->get("remove") : nullptr);
  out.responseToRemove = removals(resp ? resp->get("remove") : nullptr);
  out.authority = setAuthority.empty() ? addAuthority : setAuthority;  // `set` wins
  return out;
}

envoy::type::v3::FractionalPercent fractionalPercent(double percent) {
  envoy::type::v3::FractionalPercent out;
  out.set_numerator(static_cast<uint32_t>(percent * 10000));
  out.set_denominator(envoy::type::v3::FractionalPercent::MILLION);
  return out;
}

std::optional<envoy::config::core::v3::RuntimeFractionalPercent> mirrorFraction(const Node* percentage,
                                                                               const Node* legacyPercent) {
  envoy::config::core::v3::RuntimeFractionalPercent out;
  if (percentage) {
    double v = model::numberAt(percentage, "value").value_or(0);
    if (v <= 0) return std::nullopt;  // an explicit 0 turns mirroring off
    *out.mutable_default_value() = fractionalPercent(v);
    return out;
  }
  int64_t whole = 100;  // Istio mirrors everything when no percentage is given
  if (legacyPercent) {
    whole = legacyPercent->isMapping() ? static_cast<int64_t>(model::numberAt(legacyPercent, "value").value_or(0))
                                       : legacyPercent->asInt().value_or(0);
    if (whole <= 0) return std::nullopt;
  }
  out.mutable_default_value()->set_numerator(static_cast<uint32_t>(whole));
  out.mutable_default_value()->set_denominator(envoy::type::v3::FractionalPercent::HUNDRED);
  return out;
}

RouteAction::RequestMirrorPolicy mirrorPolicy(std::string cluster,
                                              const envoy::config::core::v3::RuntimeFractionalPercent& fraction) {
  RouteAction::RequestMirrorPolicy p;
  p.set_cluster(std::move(cluster));
  *p.mutable_runtime_fraction() = fraction;
  p.mutable_trace_sampled()->set_value(false);
  return p;
}

std::optional<RouteAction::HashPolicy> hashPolicyFor(const ProxyView& view, const ResolvedDestination& dest,
                                                     RouteFlavor flavor) {
  std::string_view svcNs = dest.service ? std::string_view(dest.service->namespace_) : view.proxy.namespace_;
  const core::Resource* dr = view.snapshot.destinationRule(view.proxy, dest.host, svcNs);
  if (!dr) return std::nullopt;
  const Node* ch = effectivePolicy(dr, dest.port, dest.subset).loadBalancer;
  ch = ch ? ch->get("consistentHash") : nullptr;
  if (!ch) return std::nullopt;
  RouteAction::HashPolicy out;
  if (auto h = text(ch, "httpHeaderName"); !h.empty()) {
    out.mutable_header()->set_header_name(std::string(h));
    return out;
  }
  if (flavor == RouteFlavor::ProxylessGrpc) return std::nullopt;  // gRPC hashes on headers only
  if (const Node* cookie = ch->get("httpCookie")) {
    auto* c = out.mutable_cookie();
    c->set_name(std::string(text(cookie, "name")));
    c->set_path(std::string(text(cookie, "path")));
    setDurationFrom(*c->mutable_ttl(), cookie, "ttl");
    if (!c->has_ttl()) c->clear_ttl();
    return out;
  }
  if (model::boolAt(ch, "useSourceIp").value_or(false)) {
    out.mutable_connection_properties()->set_source_ip(true);
    return out;
  }
  if (auto q = text(ch, "httpQueryParameterName"); !q.empty()) {
    out.mutable_query_parameter()->set_name(std::string(q));
    return out;
  }
  return std::nullopt;
}

}  // namespace mesh::xds
