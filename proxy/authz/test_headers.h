// Request headers from a map, for the authorization tests (jwt_authn, RBAC, meshd's policies).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "proxy/authz/authz_request.h"

namespace mesh::proxy::authz::testing {

class MapHeaders : public RequestHeaders {
 public:
  MapHeaders() = default;
  MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> init) : h(init) {}
  std::optional<std::string> get(std::string_view name) const override {
    auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, std::string> h;  // lower-case names
};

}  // namespace mesh::proxy::authz::testing
