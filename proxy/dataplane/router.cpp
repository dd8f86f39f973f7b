// The router filter (with the fault filter in front of it): per request, the route table
// decides; faults delay or abort; direct responses and redirects are answered here; a route
// action picks a cluster and host, applies circuit breakers, retries with backoff within the
// route timeout, mirrors the request, and streams the upstream response back. Local replies
// use Envoy's wording ("no healthy upstream", "upstream request timeout", ...).
#include "proxy/dataplane/asio_includes.h"

#include "proxy/dataplane/connect_tunnel.h"
#include "proxy/dataplane/request_telemetry.h"
#include "proxy/dataplane/route_table.h"
#include "proxy/dataplane/security_filters.h"
#include "proxy/dataplane/tls_handshake.h"
#include "proxy/dataplane/http_stream.h"
#include "proxy/dataplane/upstream.h"
#include "proxy/dataplane/xfcc.h"
#include "proxy/telemetry/trace_context.h"

namespace mesh::proxy::dataplane {

namespace {

using Clock = std::chrono::steady_clock;

namespace detail {
std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace detail
constexpr std::string_view kConnectError = "upstream connect error or disconnect/reset before headers. ";

asio::awaitable<void> sleepFor(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Envoy's default notion of an internal address: RFC 1918, loopback, unique local IPv6.
bool isInternalAddress(const std::string& ip) {
  static const CidrRange kInternal[] = {{"10.0.0.0", 8}, {"172.16.0.0", 12}, {"192.168.0.0", 16},
                                        {"127.0.0.0", 8}, {"::1", 128}, {"fc00::", 7}};
  for (const auto& range : kInternal) {
    if (range.contains(ip)) return true;
  }
  return false;
}

// What Envoy's connection manager does to every request before routing. At the edge
// (use_remote_address) a request from an external address loses its x-envoy-* headers, which
// steer retries, timeouts, faults and original-destination routing, and gets a new request id.
// Returns this hop's traceparent.
std::string decorateRequest(RequestHead& r, const HttpConnectionManagerConfig& hcm, const ConnectionInfo& info) {
  bool external = hcm.useRemoteAddress && !isInternalAddress(info.sourceAddress);
  r.headers.entries().reserve(r.headers.size() + 10);  // what this adds, in one allocation
  if (external) {
    std::erase_if(r.headers.entries(), [](const HeaderMap::Entry& e) { return e.first.starts_with("x-envoy-"); });
  }
  if (hcm.generateRequestId) {
    std::optional<std::string_view> incoming = r.headers.get("x-request-id");
    if (external && !hcm.preserveExternalRequestId) incoming.reset();
    std::string id = telemetry::requestIdFor(incoming);
    if (!incoming || id != *incoming) r.headers.set("x-request-id", std::move(id));
  }
  // Tracing as Envoy does for Istio: continue the incoming trace (W3C or B3) with a new span for
  // this hop, or start one, and send both header families upstream.
  auto incomingTrace = telemetry::extractTraceContext([&r](std::string_view name) { return r.headers.get(name); });
  telemetry::TraceContext span = telemetry::startSpan(incomingTrace);
  for (std::string_view stale : {"b3", "tracestate", "x-b3-parentspanid"}) r.headers.remove(stale);
  for (auto& [name, value] : telemetry::traceHeaders(span)) r.headers.set(name, std::move(value));
  if (hcm.useRemoteAddress) {
    auto xff = r.headers.getJoined("x-forwarded-for");
    r.headers.set("x-forwarded-for", xff ? *xff + "," + info.sourceAddress : info.sourceAddress);
    r.headers.set("x-forwarded-proto", r.scheme);
  } else if (!r.headers.has("x-forwarded-proto")) {
    r.headers.add("x-forwarded-proto", r.scheme);
  }
  return telemetry::formatTraceparent(span);
}

std::optional<uint64_t> requestHash(const std::vector<HashPolicy>& policies, const RequestHead& r,
                                    const ConnectionInfo& info) {
  std::optional<uint64_t> hash;
  for (const auto& p : policies) {
    std::optional<uint64_t> h;
    switch (p.kind) {
      case HashPolicy::Kind::Header:
        if (auto v = r.headers.getJoined(p.name)) h = stableHash(*v);
        break;
      case HashPolicy::Kind::SourceIp: h = stableHash(info.sourceAddress); break;
      case HashPolicy::Kind::Cookie:
        if (auto cookies = r.headers.getJoined("cookie")) {
          std::string_view c = *cookies;
          while (!c.empty()) {
            size_t semi = c.find_first_of(";,");
            std::string_view pair = c.substr(0, semi);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            size_t eq = pair.find('=');
            if (eq != std::string_view::npos && pair.substr(0, eq) == p.name) {
              h = stableHash(pair.substr(eq + 1));
              break;
            }
            c = semi == std::string_view::npos ? std::string_view() : c.substr(semi + 1);
          }
        }
        break;
      case HashPolicy::Kind::QueryParameter: {
        std::string_view q = r.query();
        while (!q.empty()) {
          size_t amp = q.find('&');
          std::string_view pair = q.substr(0, amp);
          size_t eq = pair.find('=');
          if (pair.substr(0, eq) == p.name) {
            h = stableHash(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
            break;
          }
          q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        }
        break;
      }
    }
    if (h) {
      // Envoy combines hashes by rotating the previous one left by one bit.
      hash = hash ? (((*hash << 1) | (*hash >> 63)) ^ *h) : *h;
      if (p.terminal) break;
    }
  }
  return hash;
}

bool retriableStatus(const RetryPolicy& p, unsigned status) {
  if ((p.retryOn & kRetry5xx) && status >= 500) return true;
  if ((p.retryOn & kRetryGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
  if ((p.retryOn & kRetryRetriable4xx) && status == 409) return true;
  if (p.retryOn & kRetryRetriableStatusCodes) {
    for (uint32_t code : p.retriableStatusCodes) {
      if (code == status) return true;
    }
  }
  return false;
}

bool retriableFailure(const RetryPolicy& p, UpstreamFailure f) {
  uint32_t resetLike = kRetry5xx | kRetryGatewayError | kRetryReset;
  switch (f) {
    case UpstreamFailure::ConnectFailure: return (p.retryOn & (resetLike | kRetryConnectFailure)) != 0;
    case UpstreamFailure::Reset:
    case UpstreamFailure::Timeout: return (p.retryOn & resetLike) != 0;
    default: return false;
  }
}

// Envoy's fully jittered exponential backoff: uniform in [0, base × 2^attempt), capped.
Clock::duration backoff(const RetryPolicy& p, uint32_t attempt, Worker& worker) {
  uint64_t ceiling = static_cast<uint64_t>(p.baseInterval.count()) << std::min<uint32_t>(attempt, 20);
  ceiling = std::min<uint64_t>(ceiling, static_cast<uint64_t>(p.maxInterval.count()));
  return std::chrono::milliseconds(ceiling == 0 ? 0 : worker.rng() % ceiling);
}

bool rolled(Worker& worker, const Fraction& f) { return worker.rng() % 1'000'000 < f.perMillion; }

const FaultConfig* pickFault(const HttpConnectionManagerConfig& hcm, const WeightedCluster* wc, const Route& route,
                             const VirtualHost& vh) {
  if (!hcm.hasFaultFilter()) return nullptr;
  if (wc != nullptr && wc->fault) return wc->fault.get();
  if (route.fault) return route.fault.get();
  if (vh.fault) return vh.fault.get();
  for (const auto& f : hcm.httpFilters) {
    if (f.kind == HttpFilterKind::Fault && f.fault) return f.fault.get();
  }
  return nullptr;
}

struct ReplyWriter {
  Engine& engine;
  DownstreamStream& stream;
  bool grpc;  // Envoy answers a gRPC request with a gRPC error: 200 and grpc-status
  HttpRequestTelemetry& telemetry;
  // `flags` and `details` are Envoy's response flags and %RESPONSE_CODE_DETAILS% for the log.
  asio::awaitable<bool> send(unsigned status, std::string_view body, const HeaderMap* extra = nullptr,
                             uint32_t flags = 0, std::string_view details = {}) {
    engine.localReplies.fetch_add(1, std::memory_order_relaxed);
    telemetry.setFlag(flags);
    telemetry.setResponse(status, details);
    bool ok;
    if (grpc && !(extra != nullptr && extra->has("grpc-status"))) {
      HeaderMap trailersOnly;
      if (extra != nullptr) trailersOnly = *extra;
      trailersOnly.set("content-type", "application/grpc");
      trailersOnly.set("grpc-status", std::to_string(grpcStatusForHttp(status)));
      if (!body.empty()) trailersOnly.set("grpc-message", std::string(body));
      ok = co_await stream.sendLocalReply(200, "", &trailersOnly);
    } else {
      ok = co_await stream.sendLocalReply(status, body, extra);
    }
    if (ok) telemetry.addBytesSent(body.size());
    else telemetry.setFlag(telemetry::kDownstreamConnectionTermination);
    co_return ok && stream.keepAlive();
  }
};

// Ends a request's use of the stream idle timer (HTTP/1.1: the connection's, which goes back to
// timing the connection's idleness).
struct StreamIdleScope {
  Downstream& ds;
  StreamIdle& idle;
  ~StreamIdleScope() {
    if (ds.streamIdle == &idle) ds.streamIdle = nullptr;
    if (idle.timer != nullptr) idle.timer->disarm();
  }
};

asio::awaitable<void> sendMirror(Engine& engine, Worker& worker, std::shared_ptr<const ActiveConfig> active,
                                 std::string clusterName, RequestHead head, std::string body,
                                 std::optional<HeaderMap> trailers, Millis timeout, std::string downstreamProtocol) {
  try {
    ClusterRuntime* runtime = active->cluster(clusterName);
    if (runtime == nullptr) co_return;
    auto cluster = runtime->config();
    auto host = runtime->chooseHost({});
    if (!host) co_return;
    // Envoy marks shadow traffic by suffixing the host with "-shadow" (before any port).
    size_t colon = head.authority.rfind(':');
    if (colon != std::string::npos && head.authority.find(']') == std::string::npos) {
      head.authority.insert(colon, "-shadow");
    } else {
      head.authority += "-shadow";
    }
    auto deadline = Clock::now() + (timeout.count() > 0 ? timeout : Millis(15000));
    auto ex = co_await exchangeHead(worker, *runtime, *cluster, *host, head, body, body.size(), deadline, nullptr,
                                    false, nullptr, nullptr, trailers ? &*trailers : nullptr, downstreamProtocol);
    if (ex.failure != UpstreamFailure::None) co_return;
    UpstreamResponse& response = *ex.response;
    Deadline guard(worker.ioc, deadline, [&response] { response.abandon(); });
    response.takeBody();
    while (!response.complete()) {
      bool more = co_await response.readMore();
      response.takeBody();
      if (!more) break;
    }
    if (response.complete()) response.finish();
    engine.upstreamRequests.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception&) {
  }
}

}  // namespace

namespace {

// routeRequest without the wait for a body sender: `sender` is set when one was started.
asio::awaitable<bool> routeOnce(Engine& engine, Worker& worker, DownstreamStream& stream,
                                const HttpConnectionManagerConfig& hcm, RequestHead request, std::string body,
                                std::shared_ptr<BodySender>& sender) {
  auto active = engine.active();  // this request keeps this config to the end
  Downstream& ds = stream.connection();
  HttpRequestTelemetry tel(engine, ds);
  ReplyWriter reply{engine, stream, isGrpcRequest(request.headers), tel};
  telemetry::RequestRecord& rec = tel.record();
  if (tel.active()) {
    rec.method = request.method;
    rec.path = request.path;
    rec.authority = request.authority;
    rec.protocol = std::string(stream.protocol());
    if (isGrpcRequest(request.headers)) rec.requestProtocol = "grpc";
    rec.bytesReceived = body.size();
  }
  const bool connect = request.method == "CONNECT";
  if (connect) {
    // CONNECT names an authority, not a path (HTTP/1.1: the request target; HTTP/2: :authority).
    if (!request.path.empty()) request.authority = std::exchange(request.path, std::string());
    if (request.authority.empty()) co_return co_await reply.send(400, "Bad Request");
  } else if (hcm.normalizePath || hcm.mergeSlashes) {
    auto normalized = normalizePath(request.path, hcm.normalizePath, hcm.mergeSlashes);
    if (!normalized) co_return co_await reply.send(400, "Bad Request");
    request.path = std::move(*normalized);
  } else if (request.path.empty() || (request.path.front() != '/' && request.path != "*")) {
    co_return co_await reply.send(400, "Bad Request");
  }
  if (ds.tls && stream.protocol() != "HTTP/2" && request.scheme == "http") request.scheme = "https";
  std::string traceparent = decorateRequest(request, hcm, ds.info);
  applyForwardClientCert(request.headers, hcm, ds);
  if (tel.active()) {
    rec.path = request.path;  // normalised, before any rewrite (Envoy logs the original path)
    rec.requestId = std::string(request.headers.get("x-request-id").value_or(""));
    rec.userAgent = std::string(request.headers.get("user-agent").value_or(""));
    rec.forwardedFor = request.headers.getJoined("x-forwarded-for").value_or("");
    rec.traceparent = std::move(traceparent);
  }

  // jwt_authn, RBAC, ext_authz (and a chain's network RBAC) decide before the fault filter and router.
  if (hcm.hasSecurityFilters()) {
    SecurityVerdict verdict = co_await runSecurityFilters(engine, worker, hcm, request, body, stream);
    if (verdict.kind == SecurityVerdict::Kind::Close) co_return false;
    if (verdict.kind == SecurityVerdict::Kind::LocalReply) {
      co_return co_await reply.send(verdict.status, verdict.body, &verdict.headers, verdict.responseFlags,
                                    verdict.details);
    }
  }

  std::shared_ptr<const RouteConfig> routes = hcm.inlineRoutes;
  if (!routes) {
    auto it = active->config->routes.find(hcm.rdsName);
    if (it != active->config->routes.end()) routes = it->second;
  }
  const VirtualHost* vh = routes ? selectVirtualHost(*routes, request.authority, hcm.stripPort) : nullptr;
  const Route* route = vh ? selectRoute(*vh, request, worker.random() % 1'000'000) : nullptr;
  if (route == nullptr) co_return co_await reply.send(404, "", nullptr, telemetry::kNoRouteFound, "route_not_found");
  if (tel.active()) rec.routeName = route->name;

  const RouteAction* action = std::get_if<RouteAction>(&route->action);
  ClusterChoice choice;
  if (action != nullptr) choice = chooseCluster(*action, request.headers, worker.rng());

  // Fault filter: delay, then abort (Envoy's order).
  if (const FaultConfig* fault = pickFault(hcm, choice.weighted, *route, *vh)) {
    bool applies = headersMatch(fault->headers, request.headers);
    if (applies && !fault->downstreamNodes.empty()) {
      auto node = request.headers.get("x-envoy-downstream-service-node");
      applies = node && std::find(fault->downstreamNodes.begin(), fault->downstreamNodes.end(), *node) !=
                            fault->downstreamNodes.end();
    }
    if (applies && fault->maxActiveFaults && engine.activeFaults.load() >= *fault->maxActiveFaults) applies = false;
    if (applies && fault->delay && rolled(worker, fault->delay->fraction)) {
      Millis delay = fault->delay->fixed;
      if (fault->delay->fromHeader) {
        auto h = request.headers.get("x-envoy-fault-delay-request");
        delay = Millis(h ? std::strtoul(std::string(*h).c_str(), nullptr, 10) : 0);
      }
      if (delay.count() > 0) {
        tel.setFlag(telemetry::kDelayInjected);
        engine.activeFaults.fetch_add(1);
        co_await sleepFor(delay);
        engine.activeFaults.fetch_sub(1);
      }
    }
    if (applies && fault->abort && rolled(worker, fault->abort->fraction)) {
      unsigned status = fault->abort->httpStatus;
      if (fault->abort->fromHeader) {
        auto h = request.headers.get("x-envoy-fault-abort-request");
        status = h ? static_cast<unsigned>(std::strtoul(std::string(*h).c_str(), nullptr, 10)) : 0;
      }
      if (fault->abort->grpcStatus) {
        HeaderMap extra;
        extra.add("content-type", "application/grpc");
        extra.add("grpc-status", std::to_string(*fault->abort->grpcStatus));
        extra.add("grpc-message", "fault filter abort");
        co_return co_await reply.send(200, "", &extra, telemetry::kFaultInjected, "fault_filter_abort");
      }
      if (status >= 200 && status < 600)
        co_return co_await reply.send(status, "fault filter abort", nullptr, telemetry::kFaultInjected, "fault_filter_abort");
    }
  }

  if (const auto* direct = std::get_if<DirectResponse>(&route->action)) {
    HeaderMap extra;
    applyHeaderMutation(extra, route->responseHeaders);
    applyHeaderMutation(extra, vh->responseHeaders);
    applyHeaderMutation(extra, routes->responseHeaders);
    co_return co_await reply.send(direct->status, direct->body, &extra, 0, "direct_response");
  }
  if (const auto* redirect = std::get_if<RedirectAction>(&route->action)) {
    HeaderMap extra;
    extra.add("location", redirectLocation(*redirect, route->match, request));
    co_return co_await reply.send(redirect->responseCode, "", &extra, 0, "direct_response");
  }

  // Route action.
  ClusterRuntime* runtime = choice.name.empty() ? nullptr : active->cluster(choice.name);
  if (runtime == nullptr) {
    if (tel.active()) rec.upstreamCluster = choice.name;
    co_return co_await reply.send(action->clusterNotFoundCode, "", nullptr, telemetry::kNoClusterFound,
                                  "cluster_not_found");
  }
  auto cluster = runtime->config();
  if (tel.active()) {
    setDestination(rec, engine, ds, *cluster, nullptr);
    // Inbound clusters (inbound|PORT||) name no service: the request's host does.
    if (rec.destinationService.empty()) {
      std::string_view host = request.authority;
      if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']') == std::string_view::npos)
        host = host.substr(0, colon);
      rec.destinationService = rec.destinationServiceName = std::string(host);
    }
  }

  if (choice.weighted != nullptr) applyHeaderMutation(request.headers, choice.weighted->requestHeaders);
  applyHeaderMutation(request.headers, route->requestHeaders);
  applyHeaderMutation(request.headers, vh->requestHeaders);
  applyHeaderMutation(request.headers, routes->requestHeaders);
  if (!action->hostRewriteLiteral.empty()) {
    request.authority = action->hostRewriteLiteral;
  } else if (!action->hostRewriteHeader.empty()) {
    if (auto h = request.headers.get(action->hostRewriteHeader)) request.authority = std::string(*h);
  }
  request.path = rewritePath(route->match, action->prefixRewrite, action->regexRewrite.get(),
                             action->regexSubstitution, request.path);
  // An upgrade (WebSocket) is forwarded only when the route or the HCM enables its type;
  // otherwise Envoy answers 403.
  std::string upgradeType;
  std::string upgradeValue;
  if (connect) {
    upgradeType = "connect";  // upgrade_configs' CONNECT
  } else if (auto u = request.headers.get("upgrade")) {
    std::string connection = detail::lowerCopy(request.headers.getJoined("connection").value_or(""));
    if (connection.find("upgrade") != std::string::npos) {
      upgradeValue = std::string(*u);
      upgradeType = detail::lowerCopy(upgradeValue);
    }
  }
  if (!upgradeType.empty()) {
    auto r = action->upgrades.find(upgradeType);
    auto h = hcm.upgrades.find(upgradeType);
    bool allowed = r != action->upgrades.end() ? r->second : (h != hcm.upgrades.end() && h->second);
    if (!allowed) co_return co_await reply.send(403, "", nullptr, 0, "upgrade_failed");
  }
  bool headRequest = request.method == "HEAD";
  // A bodiless GET goes up without Content-Length, as it came in.
  std::optional<uint64_t> framedLength;
  if (!body.empty() || (request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS" &&
                        request.method != "DELETE" && request.method != "TRACE")) {
    framedLength = body.size();
  }
  // A buffered body's trailers go with every try and mirror; a streamed one's follow its end.
  const HeaderMap* requestTrailers = stream.bodyStreaming() ? nullptr : stream.requestTrailers();
  std::optional<BodyPump> pump;
  if (connect) framedLength.reset();  // a tunnel's bytes are no body
  if (stream.bodyStreaming() && !connect) {
    pump.emplace(BodyPump{stream, body, true, hcm.idleTimeout, action->timeout});
    framedLength = stream.bodyLength();
    pump->chunked = !framedLength.has_value();
  }
  removeHopByHopHeaders(request.headers);
  if (!upgradeType.empty() && !connect) {
    request.headers.add("connection", "upgrade");
    request.headers.add("upgrade", upgradeValue);
  }

  for (const auto& m : action->mirrors) {
    if (pump || !upgradeType.empty() || !rolled(worker, m.fraction)) continue;  // nothing to copy
    std::optional<HeaderMap> mirrorTrailers;
    if (requestTrailers != nullptr) mirrorTrailers = *requestTrailers;
    asio::co_spawn(worker.ioc,
                   sendMirror(engine, worker, active, m.cluster, request, body, std::move(mirrorTrailers), action->timeout,
                              std::string(stream.protocol())),
                   asio::detached);
  }

  const RetryPolicy* retry = action->retryPolicy ? &*action->retryPolicy : vh->retryPolicy ? &*vh->retryPolicy : nullptr;
  RetryPolicy noRetry;
  noRetry.numRetries = 0;
  // Envoy cannot retry what it did not buffer, nor an upgrade.
  if (retry == nullptr || pump || !upgradeType.empty()) retry = &noRetry;
  auto start = Clock::now();
  tel.upstreamStarted();
  Millis routeTimeout = action->timeout;
  // grpc-timeout caps the route timeout (gRPC's deadline: nothing is gained by waiting longer).
  if (auto grpcDeadline = reply.grpc ? grpcTimeout(request.headers) : std::nullopt) {
    routeTimeout = routeTimeout.count() > 0 ? std::min(routeTimeout, *grpcDeadline) : *grpcDeadline;
    if (pump) pump->routeTimeout = routeTimeout;
  }
  auto globalDeadline = routeTimeout.count() > 0 && !pump ? start + routeTimeout : Clock::time_point::max();
  LbContext lb;
  lb.hash = requestHash(action->hashPolicies, request, ds.info);
  if (cluster->type == ClusterType::OriginalDst) {  // only ORIGINAL_DST clusters read it
    lb.originalDst = cluster->originalDstUseHttpHeader
                         ? std::string(request.headers.get(cluster->originalDstHttpHeader).value_or(""))
                         : ds.info.destinationAddress + ":" + std::to_string(ds.info.destinationPort);
  }

  // The chosen host in the request's telemetry.
  auto noteHost = [&](const HostRuntime& h) {
    if (!tel.active()) return;
    rec.upstreamHost = h.key;
    if (ds.inbound) return;
    rec.destination = h.endpoint.workload ? *h.endpoint.workload : telemetry::PeerInfo{};
    rec.mutualTls = upstreamMutualTls(*cluster, h.endpoint);
  };

  UpstreamExchange ex;
  std::shared_ptr<HostRuntime> host;
  std::optional<ResourceGuard> retryGuard;
  uint32_t attempt = 0;

  // The stream idle timeout (the route's idle_timeout, else the HCM's stream_idle_timeout): on
  // the connection's timer over HTTP/1.1, on one of the stream's own over HTTP/2. Tunnels have
  // their relay's.
  const Millis streamIdleTimeout = action->idleTimeout.value_or(hcm.streamIdleTimeout);
  StreamIdle idle;
  std::optional<IdleDeadline> streamTimer;
  StreamIdleScope idleScope{ds, idle};
  if (streamIdleTimeout.count() > 0 && upgradeType.empty()) {
    idle.timeout = streamIdleTimeout;
    if (ds.idleTimer != nullptr) {
      idle.timer = ds.idleTimer;
      ds.streamIdle = &idle;
    } else {
      streamTimer.emplace(worker.ioc, [&idle] { idle.fire(); });
      idle.timer = &*streamTimer;
    }
  }

  // CONNECT terminated here (connect_config): a TCP connection to the chosen host, then 200 and
  // the payload both ways. No retry: the client's bytes go straight through.
  if (connect && action->connectTerminate) {
    host = runtime->chooseHost(lb);
    if (!host)
      co_return co_await reply.send(503, "no healthy upstream", nullptr, telemetry::kNoHealthyUpstream,
                                    "no_healthy_upstream");
    noteHost(*host);
    engine.upstreamRequests.fetch_add(1, std::memory_order_relaxed);
    UpstreamExchange failed;
    // A key of its own: a tunnel's connection is neither taken from nor given to the pool.
    auto conn = co_await connectUpstream(worker, *runtime, *cluster, *host, "connect|" + host->key,
                                         Clock::now() + cluster->connectTimeout, failed);
    runtime->reportResult(*host, conn ? 200 : 503);
    if (!conn && failed.failure == UpstreamFailure::Overflow) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      HeaderMap extra;
      extra.add("x-envoy-overloaded", "true");
      co_return co_await reply.send(503, std::string(kConnectError) + "reset reason: overflow", &extra,
                                    telemetry::kUpstreamOverflow, "overflow");
    }
    if (!conn)
      co_return co_await reply.send(503, std::string(kConnectError) +
                                             "reset reason: remote connection failure, transport failure reason: " +
                                             failed.detail,
                                    nullptr, telemetry::kUpstreamConnectionFailure,
                                    "upstream_reset_before_response_started{remote_connection_failure}");
    if (tel.active() && !ds.inbound) rec.destination.principal = conn->peerPrincipal;
    tel.upstreamAnswered();
    tel.setResponse(200, "via_upstream");
    ResponseHead established;
    established.status = 200;
    established.headers.add("date", httpDate());
    established.headers.add("server", hcm.serverName);
    RelayBytes relayed =
        co_await relayTunnel(worker, stream, std::move(conn), std::move(established), {}, streamIdleTimeout);
    rec.bytesReceived += relayed.fromDownstream;
    rec.bytesSent += relayed.toDownstream;
    co_return false;
  }
  if (connect) request.path = request.authority;  // forwarded: "CONNECT host:port" upstream

  for (;;) {
    if (Clock::now() >= globalDeadline)
      co_return co_await reply.send(504, "upstream request timeout", nullptr, telemetry::kUpstreamRequestTimeout,
                                    "upstream_response_timeout");
    auto requestGuard = ResourceGuard::tryAcquire(runtime->activeRequests, cluster->circuitBreakers.maxRequests);
    if (!requestGuard) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      HeaderMap extra;
      extra.add("x-envoy-overloaded", "true");
      co_return co_await reply.send(503, std::string(kConnectError) + "reset reason: overflow", &extra,
                                    telemetry::kUpstreamOverflow, "overflow");
    }
    host = runtime->chooseHost(lb);
    if (!host)
      co_return co_await reply.send(503, "no healthy upstream", nullptr, telemetry::kNoHealthyUpstream,
                                    "no_healthy_upstream");
    noteHost(*host);
    if (action->autoHostRewrite) {  // Envoy: the DNS name of a DNS cluster's host
      request.authority = host->endpoint.hostname.empty() ? host->endpoint.address : host->endpoint.hostname;
    }
    auto tryDeadline = globalDeadline;
    if (retry->perTryTimeout.count() > 0) tryDeadline = std::min(tryDeadline, Clock::now() + retry->perTryTimeout);
    host->activeRequests.fetch_add(1);
    engine.upstreamRequests.fetch_add(1, std::memory_order_relaxed);
    if (!pump) idle.touch();  // a streamed body's reads have the connection's idle timeout
    ex = co_await exchangeHead(worker, *runtime, *cluster, *host, request, body, framedLength, tryDeadline,
                               pump ? &*pump : nullptr, !upgradeType.empty(),
                               istioAlpnOverride(hcm, *cluster, stream.protocol()),
                               idle.timeout.count() > 0 ? &idle : nullptr, requestTrailers, stream.protocol());
    idle.interrupt = nullptr;
    host->activeRequests.fetch_sub(1);
    if (pump && pump->sender) sender = pump->sender;
    retryGuard.reset();

    bool retriable = false;
    if (ex.failure == UpstreamFailure::None) {
      unsigned status = ex.response->head().status;
      runtime->reportResult(*host, status);
      // Istio's destination_principal (client side): the upstream certificate's identity.
      if (tel.active() && !ds.inbound) rec.destination.principal = ex.peerPrincipal;
      retriable = retriableStatus(*retry, status);
    } else if (ex.failure == UpstreamFailure::Overflow) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      HeaderMap extra;
      extra.add("x-envoy-overloaded", "true");
      co_return co_await reply.send(503, std::string(kConnectError) + "reset reason: overflow", &extra,
                                    telemetry::kUpstreamOverflow, "overflow");
    } else {
      runtime->reportResult(*host, ex.failure == UpstreamFailure::Timeout ? 504 : 503);
      retriable = retriableFailure(*retry, ex.failure) &&
                  !(ex.failure == UpstreamFailure::Timeout && (tryDeadline == globalDeadline || idle.fired));
    }
    if (!retriable) break;
    if (attempt >= retry->numRetries) {
      if (retry->numRetries > 0) tel.setFlag(telemetry::kUpstreamRetryLimitExceeded);
      break;
    }
    auto retryResource = ResourceGuard::tryAcquire(runtime->activeRetries, cluster->circuitBreakers.maxRetries);
    if (!retryResource) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      break;  // Envoy: retry overflow returns the last upstream result
    }
    retryGuard = std::move(*retryResource);
    auto wait = backoff(*retry, attempt, worker);
    if (Clock::now() + wait >= globalDeadline) break;
    ++attempt;
    engine.retries.fetch_add(1, std::memory_order_relaxed);
    if (retry->avoidPreviousHosts) lb.avoid.push_back(host->key);
    if (ex.response) ex.response->abandon();  // its body is not wanted
    co_await sleepFor(wait);
  }

  std::string retried = attempt > 0 ? "retried and the latest reset reason: " : "reset reason: ";
  switch (ex.failure) {
    case UpstreamFailure::None: break;
    case UpstreamFailure::Timeout:  // the route timeout, the last per-try timeout or the stream idle timeout
      // Envoy: 408 while the request is still arriving, 504 once it has all been received.
      if (idle.fired)
        co_return co_await reply.send(pump && !stream.bodyDone() ? 408 : 504, "stream timeout", nullptr, 0,
                                      "stream_idle_timeout");
      co_return co_await reply.send(504, "upstream request timeout", nullptr, telemetry::kUpstreamRequestTimeout,
                                    "upstream_response_timeout");
    case UpstreamFailure::ConnectFailure:
      co_return co_await reply.send(503, std::string(kConnectError) + retried + "remote connection failure, transport failure reason: " + ex.detail,
                                    nullptr, telemetry::kUpstreamConnectionFailure,
                                    "upstream_reset_before_response_started{remote_connection_failure}");
    case UpstreamFailure::Reset:
      co_return co_await reply.send(503, std::string(kConnectError) + retried + ex.detail, nullptr,
                                    telemetry::kUpstreamConnectionTermination,
                                    "upstream_reset_before_response_started{connection_termination}");
    case UpstreamFailure::Overflow:
      co_return co_await reply.send(503, std::string(kConnectError) + retried + ex.detail, nullptr,
                                    telemetry::kUpstreamOverflow, "overflow");
  }
  tel.upstreamAnswered();
  if (pump && pump->sender) rec.bytesReceived = pump->sender->bytesSent;  // so far; again at the end

  // Switched (101 to an upgrade, 2xx to a forwarded CONNECT): relay raw bytes both ways until
  // both sides are done, within the stream idle timeout.
  unsigned upstreamStatus = ex.parser ? ex.parser->response().status : 0;
  if (!upgradeType.empty() && ex.parser && (connect ? upstreamStatus / 100 == 2 : upstreamStatus == 101)) {
    ResponseHead switched = std::move(ex.parser->response());
    std::string upstreamUpgrade(switched.headers.get("upgrade").value_or(upgradeValue));
    removeHopByHopHeaders(switched.headers);
    if (!connect) {
      switched.headers.add("connection", "upgrade");
      switched.headers.add("upgrade", upstreamUpgrade);
    }
    std::string toDownstream = ex.parser->takeBody() + ex.conn->buffer;  // a 2xx has no framing: all tunnel
    ex.conn->buffer.clear();
    tel.setResponse(upstreamStatus, "via_upstream");
    RelayBytes relayed = co_await relayTunnel(worker, stream, ex.conn, std::move(switched), std::move(toDownstream),
                                              streamIdleTimeout);
    rec.bytesReceived += relayed.fromDownstream;
    rec.bytesSent += relayed.toDownstream;
    co_return false;
  }

  // Stream the response back.
  UpstreamResponse& upstream = *ex.response;
  ResponseHead resp = std::move(upstream.head());
  std::optional<uint64_t> upstreamLength = upstream.contentLength();
  tel.setResponse(resp.status, "via_upstream");
  if (tel.active())
    if (auto grpcStatus = resp.headers.get("grpc-status")) rec.grpcStatus = std::string(*grpcStatus);
  removeHopByHopHeaders(resp.headers);
  if (choice.weighted != nullptr) applyHeaderMutation(resp.headers, choice.weighted->responseHeaders);
  applyHeaderMutation(resp.headers, route->responseHeaders);
  applyHeaderMutation(resp.headers, vh->responseHeaders);
  applyHeaderMutation(resp.headers, routes->responseHeaders);
  switch (hcm.serverHeader) {
    case HttpConnectionManagerConfig::ServerHeader::Overwrite: resp.headers.set("server", hcm.serverName); break;
    case HttpConnectionManagerConfig::ServerHeader::AppendIfAbsent:
      if (!resp.headers.has("server")) resp.headers.add("server", hcm.serverName);
      break;
    case HttpConnectionManagerConfig::ServerHeader::PassThrough: break;
  }
  resp.headers.set("x-envoy-upstream-service-time",
                   std::to_string(std::chrono::duration_cast<Millis>(Clock::now() - start).count()));
  bool noBody = headRequest || resp.status == 204 || resp.status == 304;
  std::string first = upstream.takeBody();
  tel.addBytesSent(first.size());
  Deadline timeout(worker.ioc, globalDeadline,
                   [&upstream] { upstream.abandon(); });
  // Idle once the response has started: the upstream is abandoned, the client's stream reset.
  idle.interrupt = [&upstream] { upstream.abandon(); };
  idle.touch();
  auto downstreamGone = [&tel, &upstream] {
    tel.setFlag(telemetry::kDownstreamConnectionTermination);
    upstream.abandon();
    return false;
  };
  // A response that ended with its head (gRPC's trailers-only errors) goes down the same way.
  // HEAD keeps the upstream's length; 204 and 304 carry none.
  std::optional<uint64_t> lengthDown = noBody && !headRequest ? std::nullopt : upstreamLength;
  if (!noBody && upstream.complete() && first.empty() && upstream.trailers() == nullptr) {
    noBody = true;
    lengthDown = upstreamLength.value_or(0);
  }
  // The codec of each side frames the body (HTTP/1.1 length, chunks or close; HTTP/2 DATA).
  if (!co_await stream.sendHead(std::move(resp), lengthDown, noBody)) co_return downstreamGone();
  if (!noBody && !co_await stream.sendBody(first)) co_return downstreamGone();
  while (!noBody && !upstream.complete()) {
    bool more = co_await upstream.readMore();
    std::string piece = upstream.takeBody();
    if (!piece.empty()) {
      idle.touch();
      tel.addBytesSent(piece.size());
      if (!co_await stream.sendBody(piece)) co_return downstreamGone();
    }
    if (!more) break;
  }
  if (!noBody && !upstream.complete()) {  // reset mid-body: so is the client's
    tel.setFlag(telemetry::kUpstreamConnectionTermination);
    co_return false;
  }
  const HeaderMap* trailers = upstream.trailers();
  if (tel.active() && trailers != nullptr) {
    if (auto grpcStatus = trailers->get("grpc-status")) rec.grpcStatus = std::string(*grpcStatus);
  }
  if (!noBody && !co_await stream.sendEnd(trailers)) co_return downstreamGone();
  if (pump && pump->sender) rec.bytesReceived = pump->sender->bytesSent;
  upstream.finish();
  co_return stream.keepAlive();
}

}  // namespace

asio::awaitable<bool> routeRequest(Engine& engine, Worker& worker, DownstreamStream& stream,
                                   const HttpConnectionManagerConfig& hcm, RequestHead request,
                                   std::string body) {
  std::shared_ptr<BodySender> sender;
  // A CONNECT's payload may follow its head at once: after a refusal nothing on the connection
  // can be trusted to be a request (Envoy closes it too).
  const bool connect = request.method == "CONNECT";
  bool keep = co_await routeOnce(engine, worker, stream, hcm, std::move(request), std::move(body), sender);
  // The sender reads from `stream`: it must be finished before the stream goes away.
  if (sender && !sender->done) {
    stream.stopBody();
    while (!sender->done) co_await sender->signal.wait();
  }
  co_return keep && !connect && !(sender && sender->failed);
}

}  // namespace mesh::proxy::dataplane
