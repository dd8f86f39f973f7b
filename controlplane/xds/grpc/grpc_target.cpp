#include "controlplane/xds/grpc/grpc_target.h"

#include <charconv>

#include <fmt/format.h>

namespace mesh::xds {

std::optional<GrpcTarget> resolveGrpcTarget(const ProxyView& view, std::string_view name) {
  auto colon = name.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = name.substr(0, colon), portText = name.substr(colon + 1);
  uint32_t port = 0;
  auto [p, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || p != portText.data() + portText.size()) return std::nullopt;
  const model::Service* svc = view.snapshot.service(host, view.proxy.namespace_);
  if (!svc && host.find('.') == std::string_view::npos)
    svc = view.snapshot.service(
        fmt::format("{}.{}.svc.{}", host, view.proxy.namespace_, view.snapshot.options().domain),
        view.proxy.namespace_);
  if (!svc) return std::nullopt;
  const model::ServicePort* sp = svc->port(port);
  if (!sp) return std::nullopt;
  return GrpcTarget{svc, sp};
}

}  // namespace mesh::xds
