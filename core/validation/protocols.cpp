#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"

namespace mesh::core::validation {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies, as Istio lists them.
constexpr std::string_view kRetryOn[] = {
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx",
    "refused-stream", "retriable-status-codes", "retriable-headers", "envoy-ratelimited",
    "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
    "unavailable",
};

// Status codes Go's http.StatusText knows: Istio accepts those as retryOn entries.
bool isKnownHttpStatus(int code) {
  static constexpr int kCodes[] = {100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
                                   300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405,
                                   406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
                                   422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504,
                                   505, 506, 507, 508, 510, 511};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

}  // namespace

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::Http: return "HTTP";
    case Protocol::Https: return "HTTPS";
    case Protocol::Http2: return "HTTP2";
    case Protocol::Grpc: return "GRPC";
    case Protocol::GrpcWeb: return "GRPC-Web";
    case Protocol::HttpProxy: return "HTTP_PROXY";
    case Protocol::Tcp: return "TCP";
    case Protocol::Tls: return "TLS";
    case Protocol::Udp: return "UDP";
    case Protocol::Mongo: return "Mongo";
    case Protocol::Redis: return "Redis";
    case Protocol::Mysql: return "MySQL";
    case Protocol::Unsupported: break;
  }
  return "UnsupportedProtocol";
}

Protocol parseProtocol(std::string_view name) {
  static const std::pair<std::string_view, Protocol> kNames[] = {
      {"HTTP", Protocol::Http},   {"HTTPS", Protocol::Https}, {"HTTP2", Protocol::Http2},
      {"GRPC", Protocol::Grpc},   {"GRPC-WEB", Protocol::GrpcWeb}, {"HTTP_PROXY", Protocol::HttpProxy},
      {"TCP", Protocol::Tcp},     {"TLS", Protocol::Tls},     {"UDP", Protocol::Udp},
      {"MONGO", Protocol::Mongo}, {"REDIS", Protocol::Redis}, {"MYSQL", Protocol::Mysql},
  };
  for (auto [n, p] : kNames)
    if (equalsIgnoreCase(n, name)) return p;
  return Protocol::Unsupported;
}

bool isHttp(Protocol p) {
  return p == Protocol::Http || p == Protocol::Http2 || p == Protocol::Grpc || p == Protocol::GrpcWeb ||
         p == Protocol::HttpProxy;
}

bool isTls(Protocol p) { return p == Protocol::Https || p == Protocol::Tls; }

void checkProtocol(const Node* node, const std::string& path, ValidationContext& ctx) {
  auto s = stringOf(node);
  if (!s || s->empty()) return;
  if (parseProtocol(*s) == Protocol::Unsupported)
    ctx.error(node, path,
              fmt::format("unsupported protocol \"{}\": use HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, UDP, MONGO, "
                          "MYSQL or REDIS",
                          *s));
}

std::string checkHeaderName(std::string_view name) {
  if (name.empty()) return "header name must not be empty";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return fmt::format("invalid header name \"{}\": use letters, digits, '-' and '_'", name);
  return {};
}

std::string checkHeaderValue(std::string_view value) {
  for (char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return fmt::format("invalid header value \"{}\": control characters are not allowed", value);
  // Envoy reads %VARIABLE% and %% in header values; a lone % is rejected.
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') continue;
    if (i + 1 < value.size() && value[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t close = value.find('%', i + 1);
    if (close == std::string_view::npos)
      return fmt::format("invalid header value \"{}\": unterminated %, write %% for a literal percent sign", value);
    i = close;
  }
  return {};
}

bool isHttpMethod(std::string_view method) {
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST",    "PUT",  "PATCH",
                                                  "DELETE", "CONNECT", "OPTIONS", "TRACE"};
  return std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
}

bool isGrpcStatus(std::string_view status) {
  static constexpr std::string_view kStatuses[] = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",      "UNIMPLEMENTED",  "INTERNAL",            "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  return std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses);
}

std::string checkRetryOnPolicy(std::string_view policy) {
  if (std::find(std::begin(kRetryOn), std::end(kRetryOn), policy) != std::end(kRetryOn)) return {};
  int code = 0;
  auto [ptr, ec] = std::from_chars(policy.data(), policy.data() + policy.size(), code);
  if (ec == std::errc() && ptr == policy.data() + policy.size() && isKnownHttpStatus(code)) return {};
  return fmt::format("\"{}\" is not a valid retryOn policy: use 5xx, gateway-error, reset, connect-failure, "
                     "retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, envoy-ratelimited, "
                     "a gRPC status (cancelled, deadline-exceeded, internal, resource-exhausted, unavailable) or an "
                     "HTTP status code",
                     policy);
}

std::string checkRegex(std::string_view pattern) {
  // Envoy caps regex program size; Istio approximates with the length.
  if (pattern.size() > 1024) return "regex is longer than 1024 characters";
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok()) return re.error();
  return {};
}

void checkRegexNode(const Node* node, const std::string& path, ValidationContext& ctx) {
  auto s = stringOf(node);
  if (!s) return;
  if (s->empty()) {
    ctx.error(node, path, "regex must not be empty");
    return;
  }
  std::string err = checkRegex(*s);
  if (!err.empty()) ctx.error(node, path, fmt::format("invalid regex \"{}\": {} (Istio uses RE2 syntax)", *s, err));
}

void checkPortName(const Node* node, const std::string& path, ValidationContext& ctx) {
  auto s = stringOf(node);
  if (!s) return;
  if (!isDns1123Label(*s))
    ctx.error(node, path, fmt::format("invalid port name \"{}\": use a DNS label (lowercase letters, digits, '-')", *s));
}

}  // namespace mesh::core::validation
