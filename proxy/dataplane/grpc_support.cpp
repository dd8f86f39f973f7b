// gRPC facts the router needs whatever the codec: is a request gRPC, Envoy's HTTP → gRPC status
// mapping for local replies, and grpc-timeout parsing (gRPC's PROTOCOL-HTTP2.md).
#include <charconv>

#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

bool isGrpcRequest(const HeaderMap& requestHeaders) {
  auto type = requestHeaders.get("content-type");
  return type && type->starts_with("application/grpc") &&
         (type->size() == 16 || (*type)[16] == '+' || (*type)[16] == ';');
}

uint32_t grpcStatusForHttp(unsigned httpStatus) {
  switch (httpStatus) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

std::optional<std::chrono::milliseconds> grpcTimeout(const HeaderMap& requestHeaders) {
  auto value = requestHeaders.get("grpc-timeout");
  // TimeoutValue is at most 8 digits, then one unit letter.
  if (!value || value->size() < 2 || value->size() > 9) return std::nullopt;
  uint64_t n = 0;
  auto digits = value->substr(0, value->size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  using std::chrono::milliseconds;
  switch (value->back()) {
    case 'H': return milliseconds(n * 3'600'000);
    case 'M': return milliseconds(n * 60'000);
    case 'S': return milliseconds(n * 1000);
    case 'm': return milliseconds(n);
    case 'u': return milliseconds((n + 999) / 1000);
    case 'n': return milliseconds((n + 999'999) / 1'000'000);
    default: return std::nullopt;
  }
}

}  // namespace mesh::proxy::dataplane
