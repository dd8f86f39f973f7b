#include "proxy/telemetry/istio_metrics.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mesh::proxy::telemetry {
namespace {

// Envoy's default histogram buckets, which Istio's duration histogram keeps.
const std::vector<double> kDurationBuckets = {0.5,  1,    5,     10,    25,     50,     100,     250,     500,    1000,
                                              2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
const std::vector<double> kByteBuckets = {1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8, 1e9};

std::string_view orUnknown(const std::string& v) { return v.empty() ? std::string_view("unknown") : std::string_view(v); }

// Source and destination labels, shared by HTTP and TCP metrics, as views into the record.
constexpr size_t kPeerLabels = 20;
void peerLabelViews(const RequestRecord& r, std::string_view* out) {
  size_t i = 0;
  out[i++] = r.reporter == Reporter::Source ? "source" : "destination";
  for (const PeerInfo* p : {&r.source, &r.destination}) {
    out[i++] = orUnknown(p->workload);
    out[i++] = orUnknown(p->workloadNamespace);
    out[i++] = orUnknown(p->principal);
    out[i++] = orUnknown(p->app);
    out[i++] = orUnknown(p->version);
    out[i++] = orUnknown(p->cluster);
    out[i++] = orUnknown(p->canonicalService);
    out[i++] = p->canonicalRevision.empty() ? std::string_view("latest") : std::string_view(p->canonicalRevision);
    if (p == &r.destination) {
      out[i++] = orUnknown(r.destinationService);
      out[i++] = orUnknown(r.destinationServiceName);
      out[i++] = orUnknown(r.destinationServiceNamespace);
    }
  }
}

std::vector<std::string> peerLabelNames() {
  std::vector<std::string> names{"reporter"};
  for (const char* side : {"source", "destination"}) {
    for (const char* field : {"workload", "workload_namespace", "principal", "app", "version", "cluster",
                              "canonical_service", "canonical_revision"})
      names.push_back(std::string(side) + "_" + field);
    if (std::string_view(side) == "destination")
      for (const char* field : {"service", "service_name", "service_namespace"})
        names.push_back(std::string("destination_") + field);
  }
  return names;
}

}  // namespace

const std::vector<std::string>& IstioMetrics::requestLabelNames() {
  static const std::vector<std::string> names = [] {
    auto n = peerLabelNames();
    for (const char* extra :
         {"request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy"})
      n.emplace_back(extra);
    return n;
  }();
  return names;
}

const std::vector<std::string>& IstioMetrics::tcpLabelNames() {
  static const std::vector<std::string> names = [] {
    auto n = peerLabelNames();
    for (const char* extra : {"request_protocol", "response_flags", "connection_security_policy"}) n.emplace_back(extra);
    return n;
  }();
  return names;
}

IstioMetrics::IstioMetrics(metrics::Registry& registry)
    : requests_(registry.counter("istio_requests_total", "Requests handled by the proxy", requestLabelNames())),
      duration_(registry.histogram("istio_request_duration_milliseconds", "Request duration in milliseconds",
                                   kDurationBuckets, requestLabelNames())),
      requestBytes_(registry.histogram("istio_request_bytes", "Request body sizes in bytes", kByteBuckets,
                                       requestLabelNames())),
      responseBytes_(registry.histogram("istio_response_bytes", "Response body sizes in bytes", kByteBuckets,
                                        requestLabelNames())),
      tcpSent_(registry.counter("istio_tcp_sent_bytes_total", "Bytes sent in response over TCP", tcpLabelNames())),
      tcpReceived_(registry.counter("istio_tcp_received_bytes_total", "Bytes received in request over TCP",
                                    tcpLabelNames())),
      tcpOpened_(registry.counter("istio_tcp_connections_opened_total", "TCP connections opened", tcpLabelNames())),
      tcpClosed_(registry.counter("istio_tcp_connections_closed_total", "TCP connections closed", tcpLabelNames())) {
  static std::atomic<uint64_t> nextId{1};
  id_ = nextId.fetch_add(1);
}

namespace {

constexpr size_t kRequestLabels = kPeerLabels + 5;

// Istio's stats filter: only the server sidecar (reporter destination) knows the policy, from
// whether the client presented a certificate; every other reporter says "unknown".
std::string_view securityPolicyView(const RequestRecord& r) {
  if (r.reporter != Reporter::Destination) return "unknown";
  return r.mutualTls ? "mutual_tls" : "none";
}

uint64_t hashViews(std::span<const std::string_view> values) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a, with a separator byte between values
  for (std::string_view v : values) {
    for (char c : v) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
  }
  return h;
}

}  // namespace

// Per thread: label tuple → the four children it feeds, so a repeated tuple costs one hash and
// one comparison instead of 25 strings and four locked map lookups. Bounded; cleared when full
// or when another IstioMetrics instance records on this thread.
struct IstioMetrics::ThreadCache {
  struct Children {
    std::vector<std::string> labels;
    metrics::Counter* requests;
    metrics::Histogram* duration;
    metrics::Histogram* requestBytes;
    metrics::Histogram* responseBytes;
  };
  static constexpr size_t kMaxEntries = 4096;
  uint64_t owner = 0;
  std::unordered_multimap<uint64_t, Children> entries;
};

void IstioMetrics::recordRequest(const RequestRecord& r) {
  std::array<std::string_view, kRequestLabels> labels;
  peerLabelViews(r, labels.data());
  char code[16];
  auto written = std::to_chars(code, code + sizeof code, r.responseCode);
  size_t i = kPeerLabels;
  labels[i++] = r.requestProtocol;
  labels[i++] = std::string_view(code, static_cast<size_t>(written.ptr - code));
  labels[i++] = r.grpcStatus.empty() ? std::string_view("-") : std::string_view(r.grpcStatus);
  labels[i++] = r.responseFlags.empty() ? std::string_view("-") : std::string_view(r.responseFlags);
  labels[i++] = securityPolicyView(r);

  thread_local ThreadCache cache;
  if (cache.owner != id_ || cache.entries.size() >= ThreadCache::kMaxEntries) {
    cache.entries.clear();
    cache.owner = id_;
  }
  uint64_t hash = hashViews(labels);
  ThreadCache::Children* children = nullptr;
  auto [first, last] = cache.entries.equal_range(hash);
  for (auto it = first; it != last && children == nullptr; ++it)
    if (std::equal(labels.begin(), labels.end(), it->second.labels.begin(), it->second.labels.end()))
      children = &it->second;
  if (children == nullptr) {
    std::vector<std::string> owned(labels.begin(), labels.end());
    ThreadCache::Children c{{}, &requests_.with(owned), &duration_.with(owned), &requestBytes_.with(owned),
                            &responseBytes_.with(owned)};
    c.labels = std::move(owned);
    children = &cache.entries.emplace(hash, std::move(c))->second;
  }
  children->requests->inc();
  children->duration->observe(static_cast<double>(r.duration.count()) / 1000.0);
  children->requestBytes->observe(static_cast<double>(r.bytesReceived));
  children->responseBytes->observe(static_cast<double>(r.bytesSent));
}

namespace {

std::vector<std::string> tcpLabels(const RequestRecord& r) {
  std::array<std::string_view, kPeerLabels> peer;
  peerLabelViews(r, peer.data());
  std::vector<std::string> labels(peer.begin(), peer.end());
  labels.reserve(IstioMetrics::tcpLabelNames().size());
  labels.emplace_back("tcp");
  labels.emplace_back(r.responseFlags.empty() ? std::string_view("-") : std::string_view(r.responseFlags));
  labels.emplace_back(securityPolicyView(r));
  return labels;
}

}  // namespace

void IstioMetrics::recordTcpOpened(const RequestRecord& r) { tcpOpened_.with(tcpLabels(r)).inc(); }

void IstioMetrics::recordTcpClosed(const RequestRecord& r) {
  auto labels = tcpLabels(r);
  tcpClosed_.with(labels).inc();
  tcpSent_.with(labels).add(static_cast<double>(r.bytesSent));
  tcpReceived_.with(labels).add(static_cast<double>(r.bytesReceived));
}

}  // namespace mesh::proxy::telemetry
