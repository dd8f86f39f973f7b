#include "proxy/dataplane/ext_authz.h"

#include "proxy/dataplane/asio_includes.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/ext_authz_grpc.h"
#include "proxy/dataplane/http_stream.h"
#include "proxy/dataplane/security_filters.h"
#include "proxy/dataplane/upstream.h"
#include "proxy/telemetry/response_flags.h"

namespace mesh::proxy::dataplane {

namespace {

using namespace detail;
namespace eav3 = envoy::extensions::filters::http::ext_authz::v3;
using Clock = std::chrono::steady_clock;

// An authorization server's answer larger than this is treated as a failed check.
constexpr size_t kMaxAuthzResponseBody = 64 * 1024;

Result<std::vector<StringMatch>> compileList(const envoy::type::matcher::v3::ListStringMatcher& list,
                                             const std::string& where) {
  std::vector<StringMatch> out;
  for (int i = 0; i < list.patterns_size(); ++i) {
    auto m = compileStringMatch(list.patterns(i), where + ".patterns[" + std::to_string(i) + "]");
    if (!m) return Failure(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

bool anyMatches(const std::vector<StringMatch>& list, std::string_view name) {
  for (const auto& m : list) {
    if (m.matches(name)) return true;
  }
  return false;
}

bool isHopByHop(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "transfer-encoding" || name == "upgrade" ||
         name == "te" || name == "proxy-connection" || name == "content-length" || name == "host";
}

SecurityVerdict localReply(unsigned status, std::string body, std::string details) {
  SecurityVerdict v;
  v.kind = SecurityVerdict::Kind::LocalReply;
  v.status = status;
  v.body = std::move(body);
  v.details = std::move(details);
  v.responseFlags = telemetry::kUnauthorizedExternalService;
  return v;
}

// Envoy's reaction to a check that could not be made (or a 5xx answer).
SecurityVerdict checkFailed(const ExtAuthzConfig& config, RequestHead& request) {
  if (config.failureModeAllow) {
    if (config.failureModeAllowHeaderAdd) request.headers.set("x-envoy-auth-failure-mode-allowed", "true");
    return SecurityVerdict{};
  }
  return localReply(config.statusOnError, "", "ext_authz_error");
}

// The check request as Envoy's HTTP authorization client builds it.
RequestHead checkRequestFor(const ExtAuthzConfig& config, const RequestHead& request) {
  RequestHead check;
  check.method = request.method;
  check.path = config.pathPrefix + request.path;
  check.authority = request.authority;
  check.scheme = request.scheme;
  for (const auto& [name, value] : request.headers.entries()) {
    if (isHopByHop(name) || anyMatches(config.disallowedHeaders, name)) continue;
    if (name == "authorization" || anyMatches(config.allowedHeaders, name)) check.headers.add(name, value);
  }
  for (const auto& [name, value] : config.headersToAdd) check.headers.set(name, value);
  return check;
}

}  // namespace

Result<std::shared_ptr<const ExtAuthzConfig>> compileExtAuthz(const google::protobuf::Any& typedConfig,
                                                              const std::string& where) {
  eav3::ExtAuthz c;
  if (!typedConfig.UnpackTo(&c)) return invalid(where, "cannot decode ExtAuthz");
  if (c.has_decoder_header_mutation_rules()) {
    return invalid(where + ".decoder_header_mutation_rules", "not supported by this proxy");
  }
  auto out = std::make_shared<ExtAuthzConfig>();
  if (c.has_grpc_service()) {
    const auto& g = c.grpc_service();
    if (!g.has_envoy_grpc()) return invalid(where + ".grpc_service", "only envoy_grpc is supported (not google_grpc)");
    out->grpc = true;
    out->cluster = g.envoy_grpc().cluster_name();
    if (out->cluster.empty()) return invalid(where + ".grpc_service.envoy_grpc.cluster_name", "is required");
    out->grpcAuthority = g.envoy_grpc().authority().empty() ? out->cluster : g.envoy_grpc().authority();
    if (g.has_timeout()) out->timeout = toMillis(g.timeout());
    if (out->timeout.count() <= 0) return invalid(where + ".grpc_service.timeout", "must be positive");
    for (const auto& m : g.initial_metadata()) {
      if (m.key().empty() || m.key().front() == ':') {
        return invalid(where + ".grpc_service.initial_metadata", "bad header name '" + m.key() + "'");
      }
      out->headersToAdd.emplace_back(lower(m.key()), m.value());
    }
  } else if (!c.has_http_service()) {
    return invalid(where, "needs an http_service or a grpc_service");
  }
  const auto& hs = c.http_service();
  if (!out->grpc) {
    out->cluster = hs.server_uri().cluster();
    if (out->cluster.empty()) return invalid(where + ".http_service.server_uri.cluster", "is required");
    if (hs.server_uri().has_timeout()) out->timeout = toMillis(hs.server_uri().timeout());
    if (out->timeout.count() <= 0) return invalid(where + ".http_service.server_uri.timeout", "must be positive");
  }
  out->pathPrefix = hs.path_prefix();
  if (!out->pathPrefix.empty() && out->pathPrefix.front() != '/') {
    return invalid(where + ".http_service.path_prefix", "must start with '/'");
  }
  auto allowed = compileList(c.allowed_headers(), where + ".allowed_headers");
  if (!allowed) return Failure(allowed.error());
  out->allowedHeaders = std::move(*allowed);
  const auto& ar = hs.authorization_request();
  // Deprecated in favour of ExtAuthz.allowed_headers, still honoured by Envoy.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  auto legacyAllowed = compileList(ar.allowed_headers(), where + ".http_service.authorization_request.allowed_headers");
#pragma GCC diagnostic pop
  if (!legacyAllowed) return Failure(legacyAllowed.error());
  for (auto& m : *legacyAllowed) out->allowedHeaders.push_back(std::move(m));
  auto disallowed = compileList(c.disallowed_headers(), where + ".disallowed_headers");
  if (!disallowed) return Failure(disallowed.error());
  out->disallowedHeaders = std::move(*disallowed);
  for (const auto& h : ar.headers_to_add()) {
    if (h.key().empty() || h.key().front() == ':') {
      return invalid(where + ".http_service.authorization_request.headers_to_add", "bad header name '" + h.key() + "'");
    }
    out->headersToAdd.emplace_back(lower(h.key()), h.value());
  }
  const auto& resp = hs.authorization_response();
  std::string rw = where + ".http_service.authorization_response";
  if (resp.has_allowed_client_headers_on_success() && resp.allowed_client_headers_on_success().patterns_size() > 0) {
    return invalid(rw + ".allowed_client_headers_on_success", "not supported by this proxy");
  }
  if (resp.has_dynamic_metadata_from_headers() && resp.dynamic_metadata_from_headers().patterns_size() > 0) {
    return invalid(rw + ".dynamic_metadata_from_headers", "not supported by this proxy");
  }
  auto upstream = compileList(resp.allowed_upstream_headers(), rw + ".allowed_upstream_headers");
  if (!upstream) return Failure(upstream.error());
  out->upstreamHeaders = std::move(*upstream);
  auto append = compileList(resp.allowed_upstream_headers_to_append(), rw + ".allowed_upstream_headers_to_append");
  if (!append) return Failure(append.error());
  out->upstreamHeadersToAppend = std::move(*append);
  auto client = compileList(resp.allowed_client_headers(), rw + ".allowed_client_headers");
  if (!client) return Failure(client.error());
  out->clientHeaders = std::move(*client);
  out->failureModeAllow = c.failure_mode_allow();
  out->failureModeAllowHeaderAdd = c.failure_mode_allow_header_add();
  if (c.has_status_on_error() && c.status_on_error().code() != 0) {
    unsigned code = static_cast<unsigned>(c.status_on_error().code());
    if (code < 200 || code > 599) return invalid(where + ".status_on_error", "not an HTTP status");
    out->statusOnError = code;
  }
  if (c.has_with_request_body()) {
    ExtAuthzConfig::BodySettings body;
    body.maxBytes = c.with_request_body().max_request_bytes();
    body.allowPartial = c.with_request_body().allow_partial_message();
    out->packAsBytes = c.with_request_body().pack_as_bytes();
    if (body.maxBytes == 0) return invalid(where + ".with_request_body.max_request_bytes", "must be positive");
    out->withBody = body;
  }
  if (c.has_filter_enabled()) out->enabledFraction = toFraction(c.filter_enabled().default_value());
  if (c.has_filter_enabled_metadata()) {
    auto m = authz::compileMetadataMatcher(c.filter_enabled_metadata(), where + ".filter_enabled_metadata");
    if (!m) return Failure(m.error());
    out->enabledMetadata = std::move(*m);
  }
  out->denyAtDisable = c.has_deny_at_disable() && c.deny_at_disable().default_value().value();
  return std::shared_ptr<const ExtAuthzConfig>(std::move(out));
}

namespace {

// One check with an http_service: its verdict, or nullopt when it could not be made.
asio::awaitable<std::optional<SecurityVerdict>> httpCheck(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                                          RequestHead& request, std::string_view checkBody,
                                                          bool partial);

}  // namespace

asio::awaitable<SecurityVerdict> runExtAuthz(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                             RequestHead& request, std::string& body, DownstreamStream& stream,
                                             const authz::DynamicMetadata& metadata) {
  bool enabled = true;
  if (config.enabledFraction && worker.random() % 1'000'000 >= config.enabledFraction->perMillion) enabled = false;
  if (enabled && config.enabledMetadata && !config.enabledMetadata->matches(&metadata)) enabled = false;
  if (!enabled) {
    if (config.denyAtDisable) co_return localReply(config.statusOnError, "", "ext_authz_error");
    co_return SecurityVerdict{};
  }

  std::string_view checkBody;
  bool partial = false;
  if (config.withBody) {
    uint64_t max = config.withBody->maxBytes;
    // A body still arriving is read on, up to the limit; the router sends what was read first.
    while (stream.bodyStreaming() && !stream.bodyDone() && body.size() < max) {
      auto piece = co_await stream.bodyRead();
      if (!piece) {
        SecurityVerdict gone;
        gone.kind = SecurityVerdict::Kind::Close;
        co_return gone;
      }
      if (piece->empty()) break;
      body += *piece;
    }
    bool more = body.size() > max || (stream.bodyStreaming() && !stream.bodyDone());
    if (more && !config.withBody->allowPartial) {
      SecurityVerdict tooLarge;
      tooLarge.kind = SecurityVerdict::Kind::LocalReply;
      tooLarge.status = 413;
      tooLarge.body = "Payload Too Large";
      tooLarge.details = "request_payload_too_large";
      co_return tooLarge;
    }
    partial = more;
    checkBody = std::string_view(body).substr(0, max);
  }

  // Not one conditional expression with two co_awaits: GCC 12 miscompiles that.
  std::optional<SecurityVerdict> verdict;
  if (config.grpc) {
    verdict = co_await grpcCheck(engine, worker, config, request, checkBody, partial, stream);
  } else {
    verdict = co_await httpCheck(engine, worker, config, request, checkBody, partial);
  }
  if (!verdict) {
    engine.extAuthzErrors.fetch_add(1, std::memory_order_relaxed);
    co_return checkFailed(config, request);
  }
  if (verdict->kind == SecurityVerdict::Kind::Continue) {
    engine.extAuthzAllowed.fetch_add(1, std::memory_order_relaxed);
  } else {
    engine.extAuthzDenied.fetch_add(1, std::memory_order_relaxed);
  }
  co_return std::move(*verdict);
}

namespace {

asio::awaitable<std::optional<SecurityVerdict>> httpCheck(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                                          RequestHead& request, std::string_view checkBody,
                                                          bool partial) {
  RequestHead check = checkRequestFor(config, request);
  if (config.withBody) check.headers.set("x-envoy-auth-partial-body", partial ? "true" : "false");

  auto active = engine.active();
  ClusterRuntime* runtime = active->cluster(config.cluster);
  if (runtime == nullptr) co_return std::nullopt;
  auto cluster = runtime->config();
  auto host = runtime->chooseHost({});
  if (!host) co_return std::nullopt;
  auto deadline = Clock::now() + config.timeout;
  UpstreamExchange ex =
      co_await exchangeHead(worker, *runtime, *cluster, *host, check, checkBody, checkBody.size(), deadline);
  if (ex.failure != UpstreamFailure::None) co_return std::nullopt;
  UpstreamResponse& response = *ex.response;
  std::string answer;
  {
    Deadline guard(worker.ioc, deadline, [&response] { response.abandon(); });
    answer = response.takeBody();
    while (!response.complete() && answer.size() <= kMaxAuthzResponseBody) {
      bool more = co_await response.readMore();
      answer += response.takeBody();
      if (!more) break;
    }
  }
  if (!response.complete() || answer.size() > kMaxAuthzResponseBody) {
    response.abandon();
    co_return std::nullopt;
  }
  response.finish();
  const ResponseHead& head = response.head();

  if (head.status >= 500) co_return std::nullopt;
  if (head.status == 200) {
    std::vector<std::string_view> replaced;  // the server's values override the request's
    for (const auto& [name, value] : head.headers.entries()) {
      if (isHopByHop(name) || name.front() == ':') continue;
      if (anyMatches(config.upstreamHeaders, name)) {
        if (std::find(replaced.begin(), replaced.end(), name) == replaced.end()) {
          request.headers.set(name, value);
          replaced.push_back(name);
        } else {
          request.headers.add(name, value);
        }
      } else if (anyMatches(config.upstreamHeadersToAppend, name)) {
        request.headers.add(name, value);
      }
    }
    if (auto remove = head.headers.get("x-envoy-auth-headers-to-remove")) {
      std::string_view rest = *remove;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        std::string name = lower(item);
        if (!name.empty() && name.front() != ':' && name != "host") request.headers.remove(name);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    co_return SecurityVerdict{};
  }

  SecurityVerdict denied = localReply(head.status, std::move(answer), "ext_authz_denied");
  for (const auto& [name, value] : head.headers.entries()) {
    if (isHopByHop(name) || name == "date" || name == "server") continue;
    bool pass = config.clientHeaders.empty() || anyMatches(config.clientHeaders, name) ||
                name == "www-authenticate" || name == "location";
    if (pass) denied.headers.add(name, value);
  }
  co_return denied;
}

}  // namespace

}  // namespace mesh::proxy::dataplane
