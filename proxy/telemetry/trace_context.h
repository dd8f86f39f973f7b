// Trace propagation as Envoy does it for Istio: read the incoming W3C traceparent (and
// tracestate) or B3 headers (x-b3-* or the single `b3` header), start a new span for this hop
// (same trace id, new span id, the incoming span as parent), and write both header families on
// the upstream request so either kind of tracer downstream sees one trace. x-request-id is kept
// when present and valid, else a new UUIDv4. Pure functions plus a per-thread random source.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesh::proxy::telemetry {

struct TraceContext {
  std::string traceId;       // 32 lowercase hex digits
  std::string spanId;        // 16 hex: this hop's span
  std::string parentSpanId;  // 16 hex, "" at the root
  bool sampled = true;
  std::string traceState;    // W3C tracestate, passed on unchanged
};

using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view lowercaseName)>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The incoming context, if the headers carry a valid one (malformed headers are ignored, as
// Envoy does, and a new trace starts).
std::optional<TraceContext> extractTraceContext(const HeaderLookup& headers);
// This hop's span: a child of `incoming`, or the root of a new trace.
TraceContext startSpan(const std::optional<TraceContext>& incoming, bool sampledByDefault = true);
// traceparent, tracestate (when set), x-b3-traceid, x-b3-spanid, x-b3-parentspanid (when set),
// x-b3-sampled: the headers to set (replacing any incoming ones) on the upstream request.
HeaderList traceHeaders(const TraceContext& span);
std::string formatTraceparent(const TraceContext& span);

// x-request-id: the incoming one when it is a sane token (1..128 visible ASCII), else a new UUIDv4.
std::string requestIdFor(std::optional<std::string_view> incoming);
std::string newUuidV4();

}  // namespace mesh::proxy::telemetry
