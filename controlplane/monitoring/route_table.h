// RouteTable: which handler answers which path on meshd's monitoring port (/ready, /metrics,
// /version now; the debug endpoints later). Filled before HttpServer::start() and immutable
// after; dispatch() runs on the server's one I/O thread, so handlers should be quick.
// Plain C++: handlers never see Boost.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace mesh::monitoring {

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // "/metrics", without the query
  std::string query;   // "proxyID=a.b", without the '?'
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Allow

  static HttpResponse text(int status, std::string body) {
    return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class RouteTable {
 public:
  // Exact-path match. A handler registered for GET also answers HEAD (the server drops the
  // body), as Go's net/http does. Registering a path twice is a Conflict.
  Result<void> add(std::string path, HttpHandler handler,
                   std::vector<std::string> methods = {"GET"});

  // 404 for an unknown path, 405 with an Allow header for a method the path does not take, 500
  // if the handler throws (the exception stops here), otherwise the handler's response.
  HttpResponse dispatch(const HttpRequest& request) const;

 private:
  struct Route {
    HttpHandler handler;
    std::vector<std::string> methods;
  };
  std::map<std::string, Route, std::less<>> routes_;
};

}  // namespace mesh::monitoring
