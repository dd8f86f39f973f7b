#include "controlplane/jwks/jwks_fetcher.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mesh::jwks {
namespace {

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  in_addr v4{};
  return host.starts_with("127.") && inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1;
}

struct Transfer {
  const std::atomic<bool>* cancel = nullptr;
  std::size_t limit = 0;
  bool tooLarge = false;
  std::string body;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->limit) {
    t->tooLarge = true;
    return 0;  // ends the transfer (CURLE_WRITE_ERROR)
  }
  t->body.append(data, n);
  return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->cancel->load() ? 1 : 0;  // non-zero aborts
}

class CurlFetcher final : public JwksFetcher {
 public:
  explicit CurlFetcher(CurlFetchOptions options) : options_(options) {}

  Result<std::string> get(const std::string& url, std::chrono::milliseconds timeout,
                          const std::atomic<bool>& cancel) override {
    if (auto allowed = checkFetchUrl(url); !allowed) return Failure(allowed.error());
    if (cancel.load()) return fail(ErrorCode::Unavailable, fmt::format("{}: cancelled", url));
    CURL* h = curl_easy_init();
    if (!h) return fail(ErrorCode::Internal, "curl_easy_init failed");
    Transfer t;
    t.cancel = &cancel;
    t.limit = options_.maxBodyBytes;
    char errbuf[CURL_ERROR_SIZE] = {};
    long timeoutMs = static_cast<long>(timeout.count());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    // An identity provider may move its keys; a redirect must stay on https.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeoutMs);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // the size cap counts decoded bytes
    curl_easy_setopt(h, CURLOPT_USERAGENT, "meshd-jwks");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    CURLcode code = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (t.tooLarge) return fail(ErrorCode::InvalidInput, fmt::format("{}: body over {} bytes", url, t.limit));
    if (cancel.load()) return fail(ErrorCode::Unavailable, fmt::format("{}: cancelled", url));
    if (code != CURLE_OK)
      return fail(ErrorCode::Unavailable,
                  fmt::format("{}: {}", url, errbuf[0] ? std::string_view(errbuf) : curl_easy_strerror(code)));
    if (status < 200 || status >= 300) return fail(ErrorCode::Unavailable, fmt::format("{}: HTTP {}", url, status));
    return std::move(t.body);
  }

 private:
  CurlFetchOptions options_;
};

}  // namespace

std::unique_ptr<JwksFetcher> makeCurlFetcher(CurlFetchOptions options) {
  // curl_global_init must not race other libcurl calls: once, before any fetch thread runs.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlFetcher>(options);
}

Result<void> checkFetchUrl(std::string_view url) {
  CURLU* u = curl_url();
  if (!u) return fail(ErrorCode::Internal, "curl_url failed");
  std::string scheme, host;
  bool parsed = curl_url_set(u, CURLUPART_URL, std::string(url).c_str(), 0) == CURLUE_OK;
  for (auto [part, out] : {std::pair{CURLUPART_SCHEME, &scheme}, std::pair{CURLUPART_HOST, &host}}) {
    char* value = nullptr;
    if (parsed && curl_url_get(u, part, &value, 0) == CURLUE_OK) *out = value;
    else parsed = false;
    curl_free(value);
  }
  curl_url_cleanup(u);
  if (!parsed) return fail(ErrorCode::InvalidInput, fmt::format("{:?} is not a URL", url));
  if (scheme == "https") return {};
  if (scheme == "http" && isLoopbackHost(host)) return {};
  return fail(ErrorCode::InvalidInput, fmt::format("{:?}: keys are fetched over https only (plain http to a "
                                                   "loopback host aside)", url));
}

Result<void> checkJwks(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail(ErrorCode::InvalidInput, "not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array() || keys->empty())
    return fail(ErrorCode::InvalidInput, "no \"keys\" array with a key in it");
  return {};
}

Result<std::string> discoveredJwksUri(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail(ErrorCode::InvalidInput, "not a JSON object");
  auto uri = doc.find("jwks_uri");
  if (uri == doc.end() || !uri->is_string() || uri->get_ref<const std::string&>().empty())
    return fail(ErrorCode::InvalidInput, "no \"jwks_uri\" string in the OpenID configuration");
  return uri->get<std::string>();
}

std::string discoveryUrl(std::string_view issuer) {
  while (issuer.ends_with('/')) issuer.remove_suffix(1);
  return fmt::format("{}/.well-known/openid-configuration", issuer);
}

}  // namespace mesh::jwks
