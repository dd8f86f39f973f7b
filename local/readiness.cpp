#include "local/readiness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <fmt/format.h>

namespace mesh::local {
namespace {

struct Body {
  std::string* out;
  size_t limit;
};

size_t appendBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  size_t n = size * count;
  size_t room = body->limit - std::min(body->limit, body->out->size());
  body->out->append(data, std::min(room, n));
  return n;  // the rest is dropped, not an error
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

namespace {

Result<HttpReply> httpRequest(const char* method, const std::string& url, std::chrono::milliseconds timeout,
                              size_t maxBody) {
  // curl_global_init is not thread-safe on old libcurls; meshctl calls this from one thread,
  // and the first call does it.
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return fail(ErrorCode::Internal, "libcurl could not be initialized");
  CURL* curl = curl_easy_init();
  if (!curl) return fail(ErrorCode::Internal, "libcurl could not create a request");
  HttpReply reply;
  Body body{&reply.body, maxBody};
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (std::string_view(method) == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // loopback: an http_proxy setting must not apply
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    return fail(ErrorCode::Unavailable,
                fmt::format("{} {}: {}", method, url, error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))));
  return reply;
}

}  // namespace

Result<HttpReply> httpGet(const std::string& url, std::chrono::milliseconds timeout, size_t maxBody) {
  return httpRequest("GET", url, timeout, maxBody);
}

Result<HttpReply> httpPost(const std::string& url, std::chrono::milliseconds timeout, size_t maxBody) {
  return httpRequest("POST", url, timeout, maxBody);
}

bool tcpConnects(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = loopback(port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return ok;
}

bool portIsFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // As the servers bind: SO_REUSEADDR lets a port in TIME_WAIT count as free.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(port);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return free;
}

WaitResult waitUntilReady(const std::string& url, std::chrono::steady_clock::time_point deadline,
                          const std::function<std::optional<std::string>()>& exited,
                          const std::function<void()>& tick) {
  WaitResult result;
  for (;;) {
    if (auto how = exited ? exited() : std::nullopt) {
      result.outcome = WaitOutcome::Exited;
      result.exited = *how;
      return result;
    }
    auto now = std::chrono::steady_clock::now();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0) return result;
    auto reply = httpGet(url, std::min(left, std::chrono::milliseconds(2000)));
    if (reply && reply->status == 200) {
      // Answered by the process started, not by another on the same port: it must still run.
      if (auto how = exited ? exited() : std::nullopt) {
        result.outcome = WaitOutcome::Exited;
        result.exited = *how;
        return result;
      }
      result.outcome = WaitOutcome::Ready;
      return result;
    }
    result.lastProblem = reply ? fmt::format("{} {}", reply->status, trimmed(reply->body)) : reply.error().message;
    for (int i = 0; i < 5 && std::chrono::steady_clock::now() < deadline; ++i) {
      if (tick) tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace mesh::local
