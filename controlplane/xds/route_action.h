// The pieces of an Envoy route's action as Istio builds them from an HTTPRoute
// (pilot/pkg/networking/core/route/route.go and route/retry/retry.go): destination → cluster
// name, retry policy (with Istio's mesh default), timeout, redirect, direct response, header
// operations, request mirroring and consistent-hash policy. Stateless; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/xds/generator.h"
#include "controlplane/xds/route_options.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace mesh::xds {

// Istio's ResolveShortnameToFQDN: "reviews" in namespace "bookinfo" is
// "reviews.bookinfo.svc.<domain>"; names with a dot and wildcards stay as written.
std::string resolveHost(std::string_view host, std::string_view ns, std::string_view domain);

struct ResolvedDestination {
  std::string host;   // FQDN
  uint32_t port = 0;
  std::string subset;
  const model::Service* service = nullptr;  // nullptr when the registry has no such host
  std::string cluster() const;              // "outbound|port|subset|host"
};

// Istio's GetDestinationCluster: destination.port.number, else the service's only port, else
// the listener port. Short hosts resolve against `ns` (the VirtualService's namespace).
ResolvedDestination resolveDestination(const ProxyView& view, const core::Node* destination, std::string_view ns,
                                       uint32_t listenPort);

// Istio's retry.ConvertPolicy. `retries` nullptr gives the mesh default (2 attempts on
// "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" with 503);
// attempts 0 disables retries (nullopt). Numeric retryOn entries become retriable_status_codes.
// With consistent hashing the previous-hosts predicate is left out (retries stay on the host).
// The gRPC flavor keeps only gRPC status names, attempts and backoff.
std::optional<envoy::config::route::v3::RetryPolicy> retryPolicy(const core::Node* retries, bool consistentHash,
                                                                 RouteFlavor flavor);

// Istio's setTimeout: the HTTPRoute timeout, 0 (disabled) when unset. Envoy gets timeout and
// max_grpc_timeout; gRPC clients read max_stream_duration instead.
void setRouteTimeout(envoy::config::route::v3::RouteAction& action, std::optional<int64_t> timeoutNanos,
                     RouteFlavor flavor);

// Istio's ApplyRedirect. false for a redirectCode Envoy cannot send (the route is dropped).
bool applyRedirect(envoy::config::route::v3::Route& out, const core::Node* redirect, uint32_t listenPort, bool tls);
void applyDirectResponse(envoy::config::route::v3::Route& out, const core::Node* directResponse);

// Istio's TranslateHeadersOperations: `set` overwrites, `add` appends, pseudo-headers and Host
// are never touched; a request :authority/host set or add becomes the authority rewrite.
struct HeaderOperations {
  std::vector<envoy::config::core::v3::HeaderValueOption> requestToAdd;
  std::vector<envoy::config::core::v3::HeaderValueOption> responseToAdd;
  std::vector<std::string> requestToRemove;
  std::vector<std::string> responseToRemove;
  std::string authority;
};
HeaderOperations headerOperations(const core::Node* headers);

// Istio's MirrorPercent/MirrorPercentByPolicy: nullopt when the percentage is explicitly 0.
std::optional<envoy::config::core::v3::RuntimeFractionalPercent> mirrorFraction(const core::Node* percentage,
                                                                               const core::Node* legacyPercent);
envoy::config::route::v3::RouteAction::RequestMirrorPolicy mirrorPolicy(std::string cluster,
                                                     const envoy::config::core::v3::RuntimeFractionalPercent& fraction);

// The hash key of the destination's DestinationRule consistentHash (effective for its port and
// subset): header, cookie, source IP or query parameter. gRPC clients only hash on headers.
std::optional<envoy::config::route::v3::RouteAction::HashPolicy> hashPolicyFor(const ProxyView& view,
                                                                               const ResolvedDestination& dest,
                                                                               RouteFlavor flavor);

// Istio's translatePercentToFractionalPercent: percent × 10000 per million.
envoy::type::v3::FractionalPercent fractionalPercent(double percent);

}  // namespace mesh::xds
