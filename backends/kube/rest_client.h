// RestClient: HTTP to one API server as one user, over libcurl. TLS is verified against the
// cluster's CA unless the kubeconfig says insecure-skip-tls-verify; HTTP/2 is negotiated by
// ALPN (HTTP/1.1 otherwise) and one connection carries every request and watch (Transport).
// Bodies are capped, 429s and 5xx of idempotent requests are retried with backoff (honouring
// Retry-After), and a 401 refreshes exec/token-file credentials once. Thread-safe; share it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "backends/kube/authenticator.h"
#include "backends/kube/rest_config.h"
#include "backends/kube/status_error.h"
#include "core/result.h"

namespace mesh::backends::kube {

class Transport;

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // from the API root: "/api/v1/namespaces/default/pods"
  std::vector<std::pair<std::string, std::string>> query{};  // escaped by the client
  std::string body{};
  std::string contentType{};
  std::string accept = "application/json";
  std::optional<std::chrono::milliseconds> timeout{};  // the whole exchange; default per client
  std::optional<bool> idempotent{};  // default: GET, HEAD, PUT, DELETE and apply patches are

  bool isWatch() const;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string contentType;
  std::optional<std::chrono::seconds> retryAfter;
};

struct RestClientOptions {
  std::chrono::milliseconds connectTimeout{10000};
  std::chrono::milliseconds requestTimeout{60000};
  size_t maxResponseBytes = 64u << 20;
  int maxRetries = 3;  // after the first attempt
  std::chrono::milliseconds retryBase{200};
  std::chrono::milliseconds retryMax{10000};
  std::string userAgent;  // default "meshctl/<version>"
  ExecOptions exec{};
};

class RestClient {
 public:
  // Checks the configuration (server URL) and sets up the transport; connects lazily.
  static Result<std::shared_ptr<RestClient>> create(RestConfig config,
                                                    RestClientOptions options = {});
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // The response whatever its status; fails only when none came (connection, TLS, timeout,
  // size limit, a stop request) or credentials could not be had.
  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop = {});
  // As send(), with statuses >= 400 turned into their Error (status_error.h).
  Result<HttpResponse> call(const HttpRequest& request, std::stop_token stop = {});
  // A streaming GET: `onData` receives the body of a 2xx response as it arrives, on the
  // transport thread (keep it short; return false to end the stream). The response's body is
  // filled only for other statuses. Returns when the server ends the stream, `onData` ends it,
  // or `stop` is requested (then it fails with Unavailable "cancelled").
  Result<HttpResponse> stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& onData,
                              std::stop_token stop);

  Error errorFor(const HttpRequest& request, const HttpResponse& response) const;
  const RestConfig& config() const { return config_; }
  const ErrorContext& errorContext() const { return context_; }
  Authenticator& authenticator() { return auth_; }

 private:
  struct Target;
  RestClient(RestConfig config, RestClientOptions options);
  // One attempt, no retries.
  Result<HttpResponse> once(const HttpRequest& request, const Credentials& creds,
                            const std::function<bool(std::string_view)>* onData,
                            std::stop_token stop, bool& transientFailure);
  Result<HttpResponse> withRetries(const HttpRequest& request,
                                   const std::function<bool(std::string_view)>* onData,
                                   std::stop_token stop);

  const RestConfig config_;
  const RestClientOptions options_;
  ErrorContext context_;
  std::unique_ptr<Target> target_;
  Authenticator auth_;
  std::unique_ptr<Transport> transport_;  // last: stopped first
};

}  // namespace mesh::backends::kube
