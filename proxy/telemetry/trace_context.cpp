#include "proxy/telemetry/trace_context.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace mesh::proxy::telemetry {
namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

bool isLowerHex(std::string_view s) {
  return std::ranges::all_of(s, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool allZero(std::string_view s) { return std::ranges::all_of(s, [](char c) { return c == '0'; }); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Appends the low `digits` hex digits of `v`, most significant first (zero-padded). Written
// by hand: ids are made for every request, and fmt's formatting allocates per call.
void appendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xf]);
}

std::string randomHex(size_t digits) {
  std::string out;
  out.reserve(digits + 16);
  while (out.size() < digits) {
    uint64_t v = rng()();
    if (v == 0) continue;  // all-zero ids are invalid in both formats
    appendHex(out, v, 16);
  }
  out.resize(digits);
  return out;
}

// version "00" only; W3C says to parse higher versions' first four fields too.
std::optional<TraceContext> fromTraceparent(std::string_view v) {
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  std::string version = lower(v.substr(0, 2)), trace = lower(v.substr(3, 32)), span = lower(v.substr(36, 16)),
              flags = lower(v.substr(53, 2));
  if (!isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(span) || !isLowerHex(flags))
    return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (allZero(trace) || allZero(span)) return std::nullopt;
  TraceContext c;
  c.traceId = trace;
  c.spanId = span;
  c.sampled = (std::stoi(flags, nullptr, 16) & 1) != 0;
  return c;
}

std::optional<TraceContext> fromB3(std::string_view traceId, std::string_view spanId,
                                   std::optional<std::string_view> sampled) {
  std::string trace = lower(traceId), span = lower(spanId);
  if ((trace.size() != 16 && trace.size() != 32) || span.size() != 16) return std::nullopt;
  if (!isLowerHex(trace) || !isLowerHex(span) || allZero(trace) || allZero(span)) return std::nullopt;
  TraceContext c;
  c.traceId = trace.size() == 16 ? std::string(16, '0') + trace : trace;  // 64-bit ids, left-padded
  c.spanId = span;
  c.sampled = !sampled || *sampled == "1" || *sampled == "true" || *sampled == "d";
  return c;
}

}  // namespace

std::optional<TraceContext> extractTraceContext(const HeaderLookup& headers) {
  if (auto tp = headers("traceparent")) {
    if (auto c = fromTraceparent(*tp)) {
      if (auto ts = headers("tracestate")) c->traceState = std::string(ts->substr(0, 512));
      return c;
    }
  }
  auto traceId = headers("x-b3-traceid");
  auto spanId = headers("x-b3-spanid");
  if (traceId && spanId)
    if (auto c = fromB3(*traceId, *spanId, headers("x-b3-sampled"))) return c;
  if (auto single = headers("b3")) {  // TRACEID-SPANID[-SAMPLED[-PARENT]]
    std::string_view s = *single;
    auto d1 = s.find('-');
    if (d1 != std::string_view::npos) {
      auto d2 = s.find('-', d1 + 1);
      std::string_view span = s.substr(d1 + 1, d2 == std::string_view::npos ? std::string_view::npos : d2 - d1 - 1);
      std::optional<std::string_view> sampled;
      if (d2 != std::string_view::npos) sampled = s.substr(d2 + 1, 1);
      if (auto c = fromB3(s.substr(0, d1), span, sampled)) return c;
    }
  }
  return std::nullopt;
}

TraceContext startSpan(const std::optional<TraceContext>& incoming, bool sampledByDefault) {
  TraceContext span;
  if (incoming) {
    span.traceId = incoming->traceId;
    span.parentSpanId = incoming->spanId;
    span.sampled = incoming->sampled;
    span.traceState = incoming->traceState;
  } else {
    span.traceId = randomHex(32);
    span.sampled = sampledByDefault;
  }
  span.spanId = randomHex(16);
  return span;
}

std::string formatTraceparent(const TraceContext& span) {
  std::string out;
  out.reserve(7 + span.traceId.size() + span.spanId.size());
  out.append("00-").append(span.traceId).append("-").append(span.spanId).append(span.sampled ? "-01" : "-00");
  return out;
}

HeaderList traceHeaders(const TraceContext& span) {
  HeaderList out;
  out.reserve(6);
  out.emplace_back("traceparent", formatTraceparent(span));
  if (!span.traceState.empty()) out.emplace_back("tracestate", span.traceState);
  out.emplace_back("x-b3-traceid", span.traceId);
  out.emplace_back("x-b3-spanid", span.spanId);
  if (!span.parentSpanId.empty()) out.emplace_back("x-b3-parentspanid", span.parentSpanId);
  out.emplace_back("x-b3-sampled", span.sampled ? "1" : "0");
  return out;
}

std::string newUuidV4() {
  uint64_t hi = rng()(), lo = rng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  appendHex(out, hi >> 32, 8);
  out.push_back('-');
  appendHex(out, hi >> 16, 4);
  out.push_back('-');
  appendHex(out, hi, 4);
  out.push_back('-');
  appendHex(out, lo >> 48, 4);
  out.push_back('-');
  appendHex(out, lo, 12);
  return out;
}

std::string requestIdFor(std::optional<std::string_view> incoming) {
  if (incoming && !incoming->empty() && incoming->size() <= 128 &&
      std::ranges::all_of(*incoming, [](char c) { return c > 0x20 && c < 0x7f; }))
    return std::string(*incoming);
  return newUuidV4();
}

}  // namespace mesh::proxy::telemetry
