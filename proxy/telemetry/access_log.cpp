#include "proxy/telemetry/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace mesh::proxy::telemetry {
namespace {

// Envoy's %START_TIME%: 2024-05-01T12:00:00.123Z.
std::string startTime(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", std::chrono::floor<std::chrono::seconds>(t), ms);
}

std::string dashIfEmpty(const std::string& v) { return v.empty() ? "-" : v; }

long long millis(std::chrono::microseconds d) { return static_cast<long long>(d.count() / 1000); }

std::string upstreamTime(const RequestRecord& r) {
  return r.upstreamServiceTime.count() < 0 ? "-" : std::to_string(millis(r.upstreamServiceTime));
}

}  // namespace

std::string formatTextLine(const RequestRecord& r) {
  return fmt::format(
      "[{}] \"{} {} {}\" {} {} {} - \"-\" {} {} {} {} \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" {} {} {} {} {} {}\n",
      startTime(r.startTime), dashIfEmpty(r.method), dashIfEmpty(r.path), dashIfEmpty(r.protocol), r.responseCode,
      dashIfEmpty(r.responseFlags), dashIfEmpty(r.responseCodeDetails), r.bytesReceived, r.bytesSent,
      millis(r.duration), upstreamTime(r), dashIfEmpty(r.forwardedFor), dashIfEmpty(r.userAgent),
      dashIfEmpty(r.requestId), dashIfEmpty(r.authority), dashIfEmpty(r.upstreamHost), dashIfEmpty(r.upstreamCluster),
      "-", dashIfEmpty(r.downstreamLocalAddress), dashIfEmpty(r.downstreamRemoteAddress),
      dashIfEmpty(r.requestedServerName), dashIfEmpty(r.routeName));
}

std::string formatJsonLine(const RequestRecord& r) {
  auto orNull = [](const std::string& v) { return v.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  nlohmann::ordered_json j = {
      {"start_time", startTime(r.startTime)},
      {"method", orNull(r.method)},
      {"path", orNull(r.path)},
      {"protocol", orNull(r.protocol)},
      {"response_code", r.responseCode},
      {"response_flags", dashIfEmpty(r.responseFlags)},
      {"response_code_details", orNull(r.responseCodeDetails)},
      {"connection_termination_details", nullptr},
      {"upstream_transport_failure_reason", nullptr},
      {"bytes_received", r.bytesReceived},
      {"bytes_sent", r.bytesSent},
      {"duration", millis(r.duration)},
      {"upstream_service_time", r.upstreamServiceTime.count() < 0 ? nlohmann::ordered_json(nullptr)
                                                                   : nlohmann::ordered_json(upstreamTime(r))},
      {"x_forwarded_for", orNull(r.forwardedFor)},
      {"user_agent", orNull(r.userAgent)},
      {"request_id", orNull(r.requestId)},
      {"authority", orNull(r.authority)},
      {"upstream_host", orNull(r.upstreamHost)},
      {"upstream_cluster", orNull(r.upstreamCluster)},
      {"upstream_local_address", nullptr},
      {"downstream_local_address", orNull(r.downstreamLocalAddress)},
      {"downstream_remote_address", orNull(r.downstreamRemoteAddress)},
      {"requested_server_name", orNull(r.requestedServerName)},
      {"route_name", orNull(r.routeName)},
      {"traceparent", orNull(r.traceparent)},
  };
  // Request data is untrusted: invalid UTF-8 is replaced rather than failing the line.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path, AccessLogEncoding encoding) {
  if (path.empty()) return std::unique_ptr<AccessLog>();
  if (path == "/dev/stdout") return std::unique_ptr<AccessLog>(new AccessLog(stdout, false, encoding));
  if (path == "/dev/stderr") return std::unique_ptr<AccessLog>(new AccessLog(stderr, false, encoding));
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr)
    return fail(ErrorCode::Io, fmt::format("access log {}: {}", path, std::strerror(errno)));
  return std::unique_ptr<AccessLog>(new AccessLog(f, true, encoding));
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

void AccessLog::log(const RequestRecord& r) {
  std::string line = encoding_ == AccessLogEncoding::Json ? formatJsonLine(r) : formatTextLine(r);
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace mesh::proxy::telemetry
