#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/metrics/exposition.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/trace_context.h"

namespace mesh::proxy::telemetry {
namespace {

RequestRecord sampleRecord() {
  RequestRecord r;
  r.reporter = Reporter::Source;
  r.source = {"orders", "orders", "spiffe://cluster.local/ns/orders/sa/orders", "orders", "v1", "Kubernetes", "orders", "v1"};
  r.destination = {"payments-api-v2", "payments", "", "payments-api", "v2", "Kubernetes", "payments-api", "v2"};
  r.destinationService = "payments-api.payments.svc.cluster.local";
  r.destinationServiceName = "payments-api";
  r.destinationServiceNamespace = "payments";
  r.method = "GET";
  r.path = "/api/pay";
  r.protocol = "HTTP/1.1";
  r.responseCode = 503;
  r.responseFlags = "URX";
  r.upstreamCluster = "outbound|8080|v2|payments-api.payments.svc.cluster.local";
  r.upstreamHost = "127.0.0.1:9002";
  r.requestId = "abc";
  r.authority = "payments-api:8080";
  r.bytesReceived = 12;
  r.bytesSent = 2048;
  r.duration = std::chrono::microseconds(7300);
  r.upstreamServiceTime = std::chrono::microseconds(7000);
  r.startTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  return r;
}

std::map<std::string, std::string> headers(const HeaderList& list) { return {list.begin(), list.end()}; }

TEST_CASE("Istio's standard metrics: names, labels and buckets in the Prometheus exposition") {
  metrics::Registry registry;
  IstioMetrics m(registry);
  RequestRecord r = sampleRecord();
  m.recordRequest(r);
  m.recordRequest(r);
  std::string text = metrics::expose(registry);
  CHECK(text.find("# TYPE istio_requests_total counter") != std::string::npos);
  CHECK(text.find("reporter=\"source\"") != std::string::npos);
  CHECK(text.find("destination_service=\"payments-api.payments.svc.cluster.local\"") != std::string::npos);
  CHECK(text.find("response_code=\"503\"") != std::string::npos);
  CHECK(text.find("response_flags=\"URX\"") != std::string::npos);
  CHECK(text.find("destination_principal=\"unknown\"") != std::string::npos);
  // Istio's stats filter: only the destination reporter knows the connection's security policy.
  CHECK(text.find("connection_security_policy=\"unknown\"") != std::string::npos);
  CHECK(std::regex_search(text, std::regex(R"(istio_requests_total\{[^}]*\} 2\n)")));
  // 7.3 ms falls in the 10 ms bucket, not the 5 ms one.
  CHECK(std::regex_search(text, std::regex(R"(istio_request_duration_milliseconds_bucket\{[^}]*le="5"\} 0\n)")));
  CHECK(std::regex_search(text, std::regex(R"(istio_request_duration_milliseconds_bucket\{[^}]*le="10"\} 2\n)")));
  CHECK(std::regex_search(text, std::regex(R"(istio_response_bytes_sum\{[^}]*\} 4096\n)")));

  r.responseFlags.clear();
  m.recordTcpOpened(r);
  m.recordTcpClosed(r);
  text = metrics::expose(registry);
  CHECK(std::regex_search(text, std::regex(R"(istio_tcp_connections_opened_total\{[^}]*request_protocol="tcp"[^}]*\} 1\n)")));
  CHECK(std::regex_search(text, std::regex(R"(istio_tcp_sent_bytes_total\{[^}]*\} 2048\n)")));
  CHECK(std::regex_search(text, std::regex(R"(istio_tcp_received_bytes_total\{[^}]*response_flags="-"[^}]*\} 12\n)")));
}

TEST_CASE("Istio's standard metrics: connection_security_policy as each reporter knows it") {
  metrics::Registry registry;
  IstioMetrics m(registry);
  RequestRecord r = sampleRecord();
  r.reporter = Reporter::Destination;
  r.mutualTls = true;
  r.source.principal = "spiffe://cluster.local/ns/edge/sa/client";
  m.recordRequest(r);
  r.mutualTls = false;
  r.responseCode = 200;
  m.recordRequest(r);
  std::string text = metrics::expose(registry);
  CHECK(std::regex_search(text, std::regex(R"(istio_requests_total\{(?=[^}]*connection_security_policy="mutual_tls")(?=[^}]*response_code="503"))")));
  CHECK(std::regex_search(text, std::regex(R"(istio_requests_total\{(?=[^}]*connection_security_policy="none")(?=[^}]*response_code="200"))")));
}

TEST_CASE("access log: Istio's TEXT line and the JSON object with the same fields") {
  RequestRecord r = sampleRecord();
  std::string text = formatTextLine(r);
  CHECK(text.starts_with("[2024-05-01T12:00:00.123Z] \"GET /api/pay HTTP/1.1\" 503 URX - - \"-\" 12 2048 7 7 "));
  CHECK(text.find("\"abc\" \"payments-api:8080\" \"127.0.0.1:9002\" "
                  "outbound|8080|v2|payments-api.payments.svc.cluster.local") != std::string::npos);
  CHECK(text.ends_with("\n"));
  auto j = nlohmann::json::parse(formatJsonLine(r));
  CHECK(j["start_time"] == "2024-05-01T12:00:00.123Z");
  CHECK(j["response_code"] == 503);
  CHECK(j["response_flags"] == "URX");
  CHECK(j["duration"] == 7);
  CHECK(j["upstream_service_time"] == "7");
  CHECK(j["user_agent"].is_null());
  // Untrusted bytes never break the line.
  r.path = std::string("/\xff\xfe");
  CHECK_NOTHROW(nlohmann::json::parse(formatJsonLine(r)));
}

TEST_CASE("trace context: W3C and B3 in, a child span out in both formats") {
  std::map<std::string, std::string> in = {
      {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"tracestate", "congo=t61rcWkgMzE"}};
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = in.find(std::string(name));
    return it == in.end() ? std::nullopt : std::optional<std::string_view>(it->second);
  };
  auto incoming = extractTraceContext(lookup);
  REQUIRE(incoming);
  TraceContext span = startSpan(incoming);
  CHECK(span.traceId == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(span.parentSpanId == "00f067aa0ba902b7");
  CHECK(span.spanId != "00f067aa0ba902b7");
  auto out = headers(traceHeaders(span));
  CHECK(out["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-" + span.spanId + "-01");
  CHECK(out["tracestate"] == "congo=t61rcWkgMzE");
  CHECK(out["x-b3-traceid"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(out["x-b3-parentspanid"] == "00f067aa0ba902b7");
  CHECK(out["x-b3-sampled"] == "1");

  in = {{"x-b3-traceid", "80f198ee56343ba8"}, {"x-b3-spanid", "e457b5a2e4d86bd1"}, {"x-b3-sampled", "0"}};
  incoming = extractTraceContext(lookup);
  REQUIRE(incoming);
  CHECK(incoming->traceId == "000000000000000080f198ee56343ba8");
  CHECK_FALSE(incoming->sampled);
  in = {{"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"}};
  incoming = extractTraceContext(lookup);
  REQUIRE(incoming);
  CHECK(incoming->spanId == "e457b5a2e4d86bd1");

  // Malformed or all-zero ids start a new trace.
  for (const char* bad : {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "garbage"}) {
    in = {{"traceparent", bad}};
    CHECK_FALSE(extractTraceContext(lookup));
  }
  TraceContext root = startSpan(std::nullopt);
  CHECK(root.traceId.size() == 32);
  CHECK(root.parentSpanId.empty());
  CHECK(headers(traceHeaders(root)).count("x-b3-parentspanid") == 0);
}

TEST_CASE("x-request-id: kept when sane, else a fresh UUIDv4") {
  CHECK(requestIdFor(std::string_view("req-123")) == "req-123");
  std::string fresh = requestIdFor(std::nullopt);
  CHECK(std::regex_match(fresh, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(requestIdFor(std::string_view("bad id with spaces")) != "bad id with spaces");
  CHECK(requestIdFor(std::string_view(std::string(200, 'a'))).size() == 36);
  CHECK(newUuidV4() != newUuidV4());
}

}  // namespace
}  // namespace mesh::proxy::telemetry
