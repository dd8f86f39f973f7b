#include "backends/kube/rest_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <random>
#include <thread>

#include "backends/kube/transport.h"

namespace mesh::backends::kube {

// The server URL taken apart once: what requests are sent to, and the connect-to override that
// makes curl verify the certificate against tls-server-name.
struct RestClient::Target {
  std::string base;       // URL prefix for request paths
  std::string connectTo;  // CURLOPT_CONNECT_TO entry, "" when unused
};

namespace {

struct UrlParts {
  std::string scheme, host, port, prefix;
};

std::optional<UrlParts> parseUrl(std::string_view url) {
  UrlParts u;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  u.scheme = std::string(url.substr(0, sep));
  if (u.scheme != "https" && u.scheme != "http") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.prefix = std::string(rest.substr(slash));
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(0, close + 1));
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(':'))
      u.port = std::string(after.substr(1));
    else if (!after.empty())
      return std::nullopt;
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return std::nullopt;
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return u;
}

bool defaultIdempotent(const HttpRequest& r) {
  if (r.idempotent) return *r.idempotent;
  if (r.method == "GET" || r.method == "HEAD" || r.method == "PUT" || r.method == "DELETE")
    return true;
  // Server-side apply states the whole intent: sending it twice means the same.
  return r.method == "PATCH" && r.contentType == "application/apply-patch+yaml";
}

// Everything one exchange collects; the curl callbacks write into it on the transport thread.
struct Exchange {
  CURL* easy = nullptr;
  const std::function<bool(std::string_view)>* onData = nullptr;
  size_t limit = 0;
  HttpResponse response;
  bool tooLarge = false;
  bool consumerEnded = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t n = size * count;
  if (x->onData) {
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      if (!(*x->onData)(std::string_view(data, n))) {
        x->consumerEnded = true;
        return 0;  // ends the transfer (CURLE_WRITE_ERROR)
      }
      return n;
    }
  }
  if (x->response.body.size() + n > x->limit) {
    x->tooLarge = true;
    return 0;
  }
  x->response.body.append(data, n);
  return n;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue, say): start over
    x->response.contentType.clear();
    x->response.retryAfter.reset();
  } else if (startsWithNoCase(line, "content-type:")) {
    x->response.contentType = std::string(trim(line.substr(13)));
  } else if (startsWithNoCase(line, "retry-after:")) {
    std::string_view v = trim(line.substr(12));
    int seconds = 0;
    bool digits = !v.empty() && v.size() < 7 &&
                  std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      for (char c : v) seconds = seconds * 10 + (c - '0');
      x->response.retryAfter = std::chrono::seconds(seconds);
    }
  }
  return size * count;
}

std::string lowerErrno(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string curlDetail(const Exchange& x, CURLcode code) {
  std::string_view buf = x.errbuf;
  while (!buf.empty() && (buf.back() == '\n' || buf.back() == '\r')) buf.remove_suffix(1);
  return std::string(buf.empty() ? std::string_view(curl_easy_strerror(code)) : buf);
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Sleeps for `d` unless `stop` is requested first; false when stopped.
bool sleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max) {
  thread_local std::mt19937 rng{std::random_device{}()};
  auto exp = base * (1LL << std::min(attempt, 16));
  auto capped = std::min<std::chrono::milliseconds>(exp, max);
  // Full jitter in [capped/2, capped]: many clients retrying do not move in step.
  std::uniform_int_distribution<long long> jitter(capped.count() / 2, capped.count());
  return std::chrono::milliseconds(jitter(rng));
}

struct EasyHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~EasyHandle() {
    if (headers) curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

}  // namespace

bool HttpRequest::isWatch() const {
  for (const auto& [k, v] : query)
    if (k == "watch" && (v == "true" || v == "1")) return true;
  return false;
}

Result<std::shared_ptr<RestClient>> RestClient::create(RestConfig config,
                                                       RestClientOptions options) {
  auto url = parseUrl(config.server);
  if (!url)
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: server \"{}\" is not a URL of the form https://host[:port][/path]",
                            config.source, config.server));
  auto target = std::make_unique<Target>();
  if (!config.tlsServerName.empty() && url->scheme == "https") {
    // Verify (and send SNI for) tls-server-name while connecting to the configured host.
    target->base = fmt::format("https://{}:{}{}", config.tlsServerName, url->port, url->prefix);
    target->connectTo =
        fmt::format("{}:{}:{}:{}", config.tlsServerName, url->port, url->host, url->port);
  } else {
    target->base = fmt::format("{}://{}:{}{}", url->scheme, url->host, url->port, url->prefix);
  }
  std::shared_ptr<RestClient> client(new RestClient(std::move(config), std::move(options)));
  client->target_ = std::move(target);
  if (!client->transport_->ok())
    return fail(ErrorCode::Internal, "libcurl could not be initialised");
  return client;
}

RestClient::RestClient(RestConfig config, RestClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      context_{config_.server, config_.contextName, config_.userName},
      auth_(config_, options_.exec),
      transport_(std::make_unique<Transport>()) {}

RestClient::~RestClient() = default;

Error RestClient::errorFor(const HttpRequest& request, const HttpResponse& response) const {
  return statusError(response.status, response.body,
                     describeRequest(request.method, request.path, request.isWatch()), context_);
}

Result<HttpResponse> RestClient::once(const HttpRequest& request, const Credentials& creds,
                                      const std::function<bool(std::string_view)>* onData,
                                      std::stop_token stop, bool& transientFailure) {
  EasyHandle easy;
  if (!easy.h) return fail(ErrorCode::Internal, "libcurl could not create a request");
  CURL* h = easy.h;
  Exchange x;
  x.easy = h;
  x.onData = onData;
  x.limit = options_.maxResponseBytes;

  std::string url = target_->base + request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    char* ek = curl_easy_escape(h, k.data(), static_cast<int>(k.size()));
    char* ev = curl_easy_escape(h, v.data(), static_cast<int>(v.size()));
    url += fmt::format("{}{}={}", sep, ek ? ek : "", ev ? ev : "");
    curl_free(ek);
    curl_free(ev);
    sep = '&';
  }
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip etc.; the size cap counts decoded bytes
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x.errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connectTimeout.count()));
  auto timeout =
      request.timeout.value_or(onData ? std::chrono::milliseconds(0) : options_.requestTimeout);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  std::string agent =
      options_.userAgent.empty() ? fmt::format("meshctl/{}", MESH_VERSION) : options_.userAgent;
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  curl_slist* connectTo = nullptr;
  if (!target_->connectTo.empty()) {
    connectTo = curl_slist_append(nullptr, target_->connectTo.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, connectTo);
  }

  // TLS: verified unless the kubeconfig says otherwise; the cluster CA replaces the system's.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config_.insecureSkipTlsVerify ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config_.insecureSkipTlsVerify ? 0L : 2L);
  if (!config_.caPem.empty()) {
    curl_blob ca{const_cast<char*>(config_.caPem.data()), config_.caPem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!creds.clientCertPem.empty()) {
    curl_blob cert{const_cast<char*>(creds.clientCertPem.data()), creds.clientCertPem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(creds.clientKeyPem.data()), creds.clientKeyPem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
  }

  easy.headers = curl_slist_append(easy.headers, ("Accept: " + request.accept).c_str());
  easy.headers = curl_slist_append(easy.headers, "Expect:");  // no 100-continue round trip
  if (!request.contentType.empty())
    easy.headers =
        curl_slist_append(easy.headers, ("Content-Type: " + request.contentType).c_str());
  if (!creds.token.empty()) {
    std::string auth = "Authorization: Bearer " + creds.token;
    easy.headers = curl_slist_append(easy.headers, auth.c_str());  // curl copies it
    std::fill(auth.begin(), auth.end(), '\0');
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, easy.headers);

  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  CURLcode code = transport_->perform(h, stop);
  if (connectTo) curl_slist_free_all(connectTo);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  x.response.status = static_cast<int>(status);

  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && x.consumerEnded))
    return std::move(x.response);
  if (code == CURLE_ABORTED_BY_CALLBACK || stop.stop_requested())
    return fail(ErrorCode::Unavailable,
                fmt::format("{} {}: cancelled", request.method, request.path));
  if (x.tooLarge)
    return fail(ErrorCode::Io,
                fmt::format("{} {}: the response is larger than the limit of {} MiB",
                            request.method, request.path, options_.maxResponseBytes >> 20));
  transientFailure = transient(code);
  std::string detail = curlDetail(x, code);
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      long err = 0;
      curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &err);
      return Failure(
          connectionError(context_, err ? lowerErrno(static_cast<int>(err)) : detail,
                          "check that the API server is running and that the kubeconfig's server "
                          "address is right"));
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return Failure(connectionError(context_,
                                     fmt::format("cannot resolve the host name ({})", detail),
                                     "check the kubeconfig's server address and DNS"));
    case CURLE_OPERATION_TIMEDOUT:
      return Failure(connectionError(context_, fmt::format("no answer to {} {} in time ({})",
                                                           request.method, request.path, detail)));
    case CURLE_PEER_FAILED_VERIFICATION:
      return Failure(connectionError(
          context_, fmt::format("its TLS certificate is not trusted ({})", detail),
          config_.caPem.empty()
              ? "set the cluster's certificate-authority-data in the kubeconfig"
              : "check that the kubeconfig's certificate-authority is the one that signed the "
                "API server's certificate"));
    case CURLE_SSL_CACERT_BADFILE:
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("{}: the cluster's certificate authority is not a valid PEM certificate ({})",
                      config_.source, detail));
    case CURLE_SSL_CERTPROBLEM:
      return fail(ErrorCode::InvalidInput,
                  fmt::format("{}: the client certificate or key cannot be used ({})",
                              config_.source, detail));
    case CURLE_SSL_CONNECT_ERROR:
      return Failure(connectionError(
          context_, fmt::format("the TLS handshake failed ({})", detail),
          creds.clientCertPem.empty() ? "" : "the server may not accept this client certificate"));
    default:
      return Failure(connectionError(context_, detail));
  }
}

Result<HttpResponse> RestClient::withRetries(const HttpRequest& request,
                                             const std::function<bool(std::string_view)>* onData,
                                             std::stop_token stop) {
  bool idempotent = defaultIdempotent(request);
  bool refreshed = false;
  for (int attempt = 0;; ++attempt) {
    auto creds = auth_.credentials();
    if (!creds) return Failure(creds.error());
    bool transientFailure = false;
    auto response = once(request, *creds, onData, stop, transientFailure);
    bool more = attempt < options_.maxRetries && !stop.stop_requested();
    if (!response) {
      // A broken or timed-out exchange may be tried again when sending it twice is harmless.
      if (!more || !idempotent || onData || !transientFailure) return response;
      if (!sleepFor(backoff(attempt, options_.retryBase, options_.retryMax), stop)) return response;
      continue;
    }
    int status = response->status;
    if (status == 401 && !refreshed && auth_.refreshAfterUnauthorized(*creds)) {
      refreshed = true;  // one fresh credential per request, as client-go's exec authenticator
      --attempt;
      continue;
    }
    // 429 means the request was not served (priority and fairness), so any verb may retry it.
    bool retryable =
        status == 429 ||
        (idempotent && (status == 500 || status == 502 || status == 503 || status == 504));
    if (!retryable || !more) return response;
    auto wait = backoff(attempt, options_.retryBase, options_.retryMax);
    if (response->retryAfter)
      wait = std::min<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(*response->retryAfter),
          options_.retryMax);
    if (!sleepFor(wait, stop)) return response;
  }
}

Result<HttpResponse> RestClient::send(const HttpRequest& request, std::stop_token stop) {
  return withRetries(request, nullptr, stop);
}

Result<HttpResponse> RestClient::call(const HttpRequest& request, std::stop_token stop) {
  auto response = send(request, stop);
  if (response && response->status >= 400) return Failure(errorFor(request, *response));
  return response;
}

Result<HttpResponse> RestClient::stream(const HttpRequest& request,
                                        const std::function<bool(std::string_view)>& onData,
                                        std::stop_token stop) {
  return withRetries(request, &onData, stop);
}

}  // namespace mesh::backends::kube
