#include "controlplane/monitoring/route_table.h"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

namespace mesh::monitoring {

Result<void> RouteTable::add(std::string path, HttpHandler handler,
                             std::vector<std::string> methods) {
  if (path.empty() || path.front() != '/') {
    return fail(ErrorCode::Internal, fmt::format("route \"{}\" does not start with '/'", path));
  }
  if (!handler || methods.empty()) {
    return fail(ErrorCode::Internal, fmt::format("route {} needs a handler and a method", path));
  }
  if (routes_.contains(path)) {
    return fail(ErrorCode::Conflict, fmt::format("route {} is already registered", path));
  }
  routes_.emplace(std::move(path), Route{std::move(handler), std::move(methods)});
  return {};
}

HttpResponse RouteTable::dispatch(const HttpRequest& request) const {
  const auto it = routes_.find(request.path);
  if (it == routes_.end()) return HttpResponse::text(404, "404 page not found\n");

  const auto& methods = it->second.methods;
  const auto takes = [&](std::string_view m) {
    return std::find(methods.begin(), methods.end(), m) != methods.end();
  };
  if (!takes(request.method) && !(request.method == "HEAD" && takes("GET"))) {
    HttpResponse r = HttpResponse::text(405, "405 method not allowed\n");
    std::string allow = fmt::format("{}", fmt::join(methods, ", "));
    if (takes("GET") && !takes("HEAD")) allow += ", HEAD";
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }
  try {
    return it->second.handler(request);
  } catch (const std::exception& e) {
    return HttpResponse::text(500, fmt::format("internal error: {}\n", e.what()));
  } catch (...) {
    return HttpResponse::text(500, "internal error\n");
  }
}

}  // namespace mesh::monitoring
