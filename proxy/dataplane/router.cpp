// The router filter (with the fault filter in front of it): per request, the route table
// decides; faults delay or abort; direct responses and redirects are answered here; a route
// action picks a cluster and host, applies circuit breakers, retries with backoff within the
// route timeout, mirrors the request, and streams the upstream response back. Local replies
// use Envoy's wording ("no healthy upstream", "upstream request timeout", ...).
#include "proxy/dataplane/asio_includes.h"

#include "proxy/dataplane/route_table.h"
#include "proxy/dataplane/upstream.h"

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

asio::awaitable<bool> writeAll(Downstream& ds, std::string_view data) {
  boost::system::error_code ec;
  co_await asio::async_write(ds.socket, asio::buffer(data.data(), data.size()), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> sleepFor(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

std::string requestId(Worker& worker) {
  uint64_t a = worker.rng();
  uint64_t b = worker.rng();
  a = (a & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
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
void decorateRequest(RequestHead& r, const HttpConnectionManagerConfig& hcm, const ConnectionInfo& info,
                     Worker& worker) {
  bool external = hcm.useRemoteAddress && !isInternalAddress(info.sourceAddress);
  if (external) {
    std::erase_if(r.headers.entries(), [](const HeaderMap::Entry& e) { return e.first.starts_with("x-envoy-"); });
  }
  if (hcm.generateRequestId && (!r.headers.has("x-request-id") || (external && !hcm.preserveExternalRequestId))) {
    r.headers.set("x-request-id", requestId(worker));
  }
  if (hcm.useRemoteAddress) {
    auto xff = r.headers.getJoined("x-forwarded-for");
    r.headers.set("x-forwarded-for", xff ? *xff + "," + info.sourceAddress : info.sourceAddress);
    r.headers.set("x-forwarded-proto", r.scheme);
  } else if (!r.headers.has("x-forwarded-proto")) {
    r.headers.add("x-forwarded-proto", r.scheme);
  }
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
  Downstream& ds;
  const HttpConnectionManagerConfig& hcm;
  bool close;
  asio::awaitable<bool> send(unsigned status, std::string_view body, const HeaderMap* extra = nullptr) {
    engine.localReplies.fetch_add(1, std::memory_order_relaxed);
    close = close || engine.draining.load();  // a drain that began meanwhile closes after this reply
    std::string reply = localReply(status, body, &hcm, close, extra);
    bool ok = co_await writeAll(ds, reply);
    co_return ok && !close;
  }
};

asio::awaitable<void> sendMirror(Engine& engine, Worker& worker, std::shared_ptr<const ActiveConfig> active,
                                 std::string clusterName, RequestHead head, std::string body, Millis timeout) {
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
    std::string wire = serializeRequestHead(head, body.size(), false) + body;
    auto deadline = Clock::now() + (timeout.count() > 0 ? timeout : Millis(15000));
    auto ex = co_await exchangeHead(worker, *runtime, *cluster, *host, wire, head.method == "HEAD", deadline);
    if (ex.failure != UpstreamFailure::None) co_return;
    Deadline guard(worker.ioc, deadline, [conn = ex.conn] {
      boost::system::error_code ignored;
      conn->socket.close(ignored);
    });
    ex.parser->takeBody();
    while (!ex.parser->messageDone() && !ex.parser->failed()) {
      bool more = co_await readResponseMore(*ex.conn, *ex.parser);
      ex.parser->takeBody();
      if (!more) break;
    }
    releaseConnection(worker, ex.conn, *cluster, *ex.parser);
    engine.upstreamRequests.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception&) {
  }
}

}  // namespace

asio::awaitable<bool> routeRequest(Engine& engine, Worker& worker, Downstream& ds,
                                   const HttpConnectionManagerConfig& hcm, RequestHead request,
                                   std::string body, bool clientWantsClose, Http1Parser* streamingBody) {
  auto active = engine.active();  // this request keeps this config to the end
  ReplyWriter reply{engine, ds, hcm, clientWantsClose || engine.draining.load()};
  if (hcm.normalizePath || hcm.mergeSlashes) {
    auto normalized = normalizePath(request.path, hcm.normalizePath, hcm.mergeSlashes);
    if (!normalized) co_return co_await reply.send(400, "Bad Request");
    request.path = std::move(*normalized);
  } else if (request.path.empty() || (request.path.front() != '/' && request.path != "*")) {
    co_return co_await reply.send(400, "Bad Request");
  }
  decorateRequest(request, hcm, ds.info, worker);

  std::shared_ptr<const RouteConfig> routes = hcm.inlineRoutes;
  if (!routes) {
    auto it = active->config->routes.find(hcm.rdsName);
    if (it != active->config->routes.end()) routes = it->second;
  }
  const VirtualHost* vh = routes ? selectVirtualHost(*routes, request.authority, hcm.stripPort) : nullptr;
  const Route* route = vh ? selectRoute(*vh, request, worker.random() % 1'000'000) : nullptr;
  if (route == nullptr) co_return co_await reply.send(404, "");

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
        co_return co_await reply.send(200, "", &extra);
      }
      if (status >= 200 && status < 600) co_return co_await reply.send(status, "fault filter abort");
    }
  }

  if (const auto* direct = std::get_if<DirectResponse>(&route->action)) {
    HeaderMap extra;
    applyHeaderMutation(extra, route->responseHeaders);
    applyHeaderMutation(extra, vh->responseHeaders);
    applyHeaderMutation(extra, routes->responseHeaders);
    co_return co_await reply.send(direct->status, direct->body, &extra);
  }
  if (const auto* redirect = std::get_if<RedirectAction>(&route->action)) {
    HeaderMap extra;
    extra.add("location", redirectLocation(*redirect, route->match, request));
    co_return co_await reply.send(redirect->responseCode, "", &extra);
  }

  // Route action.
  ClusterRuntime* runtime = choice.name.empty() ? nullptr : active->cluster(choice.name);
  if (runtime == nullptr) co_return co_await reply.send(action->clusterNotFoundCode, "");
  auto cluster = runtime->config();

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
  if (auto u = request.headers.get("upgrade")) {
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
    if (!allowed) co_return co_await reply.send(403, "");
  }
  bool headRequest = request.method == "HEAD";
  // A bodiless GET goes up without Content-Length, as it came in.
  std::optional<uint64_t> framedLength;
  if (!body.empty() || (request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS" &&
                        request.method != "DELETE" && request.method != "TRACE")) {
    framedLength = body.size();
  }
  std::optional<BodyPump> pump;
  if (streamingBody != nullptr) {
    pump.emplace(BodyPump{ds, *streamingBody, body, true, hcm.idleTimeout, action->timeout});
    framedLength = streamingBody->contentLength();
    pump->chunked = !framedLength.has_value();
  }
  unsigned clientMinor = request.versionMinor;
  removeHopByHopHeaders(request.headers);
  if (!upgradeType.empty()) {
    request.headers.add("connection", "upgrade");
    request.headers.add("upgrade", upgradeValue);
  }

  for (const auto& m : action->mirrors) {
    if (pump || !upgradeType.empty() || !rolled(worker, m.fraction)) continue;  // nothing to copy
    asio::co_spawn(worker.ioc, sendMirror(engine, worker, active, m.cluster, request, body, action->timeout),
                   asio::detached);
  }

  const RetryPolicy* retry = action->retryPolicy ? &*action->retryPolicy : vh->retryPolicy ? &*vh->retryPolicy : nullptr;
  RetryPolicy noRetry;
  noRetry.numRetries = 0;
  // Envoy cannot retry what it did not buffer, nor an upgrade.
  if (retry == nullptr || pump || !upgradeType.empty()) retry = &noRetry;
  auto start = Clock::now();
  auto globalDeadline = action->timeout.count() > 0 && !pump ? start + action->timeout : Clock::time_point::max();
  LbContext lb;
  lb.hash = requestHash(action->hashPolicies, request, ds.info);
  lb.originalDst = ds.info.destinationAddress + ":" + std::to_string(ds.info.destinationPort);
  if (cluster->type == ClusterType::OriginalDst && cluster->originalDstUseHttpHeader) {
    lb.originalDst = std::string(request.headers.get(cluster->originalDstHttpHeader).value_or(""));
  }

  UpstreamExchange ex;
  std::shared_ptr<HostRuntime> host;
  std::optional<ResourceGuard> retryGuard;
  uint32_t attempt = 0;
  for (;;) {
    if (Clock::now() >= globalDeadline) co_return co_await reply.send(504, "upstream request timeout");
    auto requestGuard = ResourceGuard::tryAcquire(runtime->activeRequests, cluster->circuitBreakers.maxRequests);
    if (!requestGuard) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      HeaderMap extra;
      extra.add("x-envoy-overloaded", "true");
      co_return co_await reply.send(503, std::string(kConnectError) + "reset reason: overflow", &extra);
    }
    host = runtime->chooseHost(lb);
    if (!host) co_return co_await reply.send(503, "no healthy upstream");
    if (action->autoHostRewrite) request.authority = host->endpoint.address;
    std::string wire = serializeRequestHead(request, framedLength, pump && pump->chunked);
    if (!pump) wire += body;
    auto tryDeadline = globalDeadline;
    if (retry->perTryTimeout.count() > 0) tryDeadline = std::min(tryDeadline, Clock::now() + retry->perTryTimeout);
    host->activeRequests.fetch_add(1);
    engine.upstreamRequests.fetch_add(1, std::memory_order_relaxed);
    ex = co_await exchangeHead(worker, *runtime, *cluster, *host, wire, headRequest, tryDeadline,
                               pump ? &*pump : nullptr, !upgradeType.empty());
    host->activeRequests.fetch_sub(1);
    retryGuard.reset();

    bool retriable = false;
    if (ex.failure == UpstreamFailure::None) {
      unsigned status = ex.parser->response().status;
      runtime->reportResult(*host, status);
      retriable = retriableStatus(*retry, status);
    } else if (ex.failure == UpstreamFailure::Overflow) {
      engine.overflows.fetch_add(1, std::memory_order_relaxed);
      HeaderMap extra;
      extra.add("x-envoy-overloaded", "true");
      co_return co_await reply.send(503, std::string(kConnectError) + "reset reason: overflow", &extra);
    } else {
      runtime->reportResult(*host, ex.failure == UpstreamFailure::Timeout ? 504 : 503);
      retriable = retriableFailure(*retry, ex.failure) &&
                  !(ex.failure == UpstreamFailure::Timeout && tryDeadline == globalDeadline);
    }
    if (!retriable || attempt >= retry->numRetries) break;
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
    if (ex.conn) {
      boost::system::error_code ignored;
      ex.conn->socket.close(ignored);  // its body is not wanted
    }
    co_await sleepFor(wait);
  }

  std::string retried = attempt > 0 ? "retried and the latest reset reason: " : "reset reason: ";
  switch (ex.failure) {
    case UpstreamFailure::None: break;
    case UpstreamFailure::Timeout:  // the route timeout or the last per-try timeout
      co_return co_await reply.send(504, "upstream request timeout");
    case UpstreamFailure::ConnectFailure:
      co_return co_await reply.send(503, std::string(kConnectError) + retried + "remote connection failure, transport failure reason: " + ex.detail);
    case UpstreamFailure::Reset:
    case UpstreamFailure::Overflow:
      co_return co_await reply.send(503, std::string(kConnectError) + retried + ex.detail);
  }

  if (!upgradeType.empty() && ex.parser->response().status == 101) {
    // Switched: answer 101 and relay raw bytes both ways until either side is done.
    ResponseHead switched = std::move(ex.parser->response());
    std::string upstreamUpgrade(switched.headers.get("upgrade").value_or(upgradeValue));
    removeHopByHopHeaders(switched.headers);
    switched.headers.add("connection", "upgrade");
    switched.headers.add("upgrade", upstreamUpgrade);
    std::string toDownstream = serializeResponseHead(switched, std::nullopt, false, false);
    toDownstream += ex.conn->buffer;
    ex.conn->buffer.clear();
    std::string toUpstream = std::move(ds.buffer);
    ds.buffer.clear();
    tcp::socket upstreamSocket = std::move(ex.conn->socket);
    co_await relayBothWays(worker, ds.shared_from_this(), std::move(upstreamSocket), std::move(toUpstream),
                           std::move(toDownstream), hcm.idleTimeout, ex.conn);
    co_return false;
  }

  // Stream the response back.
  Http1Parser& parser = *ex.parser;
  ResponseHead resp = std::move(parser.response());
  std::optional<uint64_t> upstreamLength = parser.contentLength();
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
  bool close = reply.close || engine.draining.load();
  bool noBody = headRequest || resp.status == 204 || resp.status == 304;
  bool chunkedDown = false;
  std::optional<uint64_t> lengthDown;
  if (noBody) {
    if (headRequest) lengthDown = upstreamLength;
  } else if (upstreamLength) {
    lengthDown = upstreamLength;
  } else if (clientMinor >= 1) {
    chunkedDown = true;
  } else {
    close = true;  // an HTTP/1.0 client reads the body to the close
  }
  std::string out = serializeResponseHead(resp, lengthDown, chunkedDown, close && clientMinor >= 1);
  std::string first = parser.takeBody();
  if (chunkedDown) appendChunk(out, first);
  else out.append(first);
  Deadline timeout(worker.ioc, globalDeadline == Clock::time_point::max() ? Clock::now() + std::chrono::hours(24 * 365) : globalDeadline,
                   [conn = ex.conn] {
                     boost::system::error_code ignored;
                     conn->socket.close(ignored);
                   });
  if (!co_await writeAll(ds, out)) co_return false;
  while (!noBody && !parser.messageDone() && !parser.failed()) {
    bool more = co_await readResponseMore(*ex.conn, parser);
    std::string piece = parser.takeBody();
    if (!piece.empty()) {
      std::string framed;
      if (chunkedDown) appendChunk(framed, piece);
      else framed = std::move(piece);
      if (!co_await writeAll(ds, framed)) co_return false;
    }
    if (!more) break;
  }
  if (!parser.messageDone() || parser.failed()) co_return false;  // reset mid-body: so is the client's
  if (chunkedDown && !co_await writeAll(ds, kLastChunk)) co_return false;
  releaseConnection(worker, std::move(ex.conn), *cluster, parser);
  co_return !close;
}

}  // namespace mesh::proxy::dataplane
