// VirtualService → Envoy routes and virtual hosts, shared by the Envoy RDS generator (sidecars
// and gateways) and the proxyless gRPC generator. Follows Istio's route translation
// (pilot/pkg/networking/core/route/route.go, httproute.go): one route per applicable match,
// stopping after a catch-all; a service without VirtualService gets Istio's "default" route.
// Pure functions of (view, config, options); any thread.
//
// Typical use (gRPC generator, one "host:port" route config):
//   VirtualServiceSet vss(view.snapshot, view.snapshot.virtualServices(view.proxy.namespace_, "mesh"));
//   VirtualHostOptions o;
//   o.flavor = RouteFlavor::ProxylessGrpc;
//   VirtualHost vh = buildVirtualHost(view, svc, port, vss, o);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/xds/generator.h"
#include "controlplane/xds/route_options.h"
#include "controlplane/xds/virtual_service_set.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace mesh::xds {

// The virtual host for one service port: named "host:port", with the host's domains (FQDN,
// the short names the proxy's namespace can use, the cluster IP, each with and without
// ":port"), and the routes of the VirtualService among `virtualServices` that claims the host
// (exact host first, else the most specific wildcard), or the default route when none does or
// its routes do not apply to this proxy. `virtualServices` is what the caller may see, e.g.
// ConfigSnapshot::virtualServices(proxy namespace, "mesh"). options.listenPort 0 means port.port.
envoy::config::route::v3::VirtualHost buildVirtualHost(const ProxyView& view, const model::Service& svc,
                                                       const model::ServicePort& port,
                                                       const VirtualServiceSet& virtualServices,
                                                       const VirtualHostOptions& options);

// The routes of one VirtualService (delegates merged) for this proxy, gateway and port: each
// `http` entry once per match that applies (port, gateways, sourceLabels), in order, stopping
// after the first catch-all. Empty when nothing applies. options.listenPort should be set.
std::vector<envoy::config::route::v3::Route> buildHttpRoutes(const ProxyView& view, const core::Resource& vs,
                                                             const VirtualHostOptions& options);

// Istio's default outbound route: prefix "/", named "default", to outbound|port||host, with the
// mesh default retry policy, timeout disabled, and the DestinationRule's consistent-hash key.
envoy::config::route::v3::Route buildDefaultRoute(const ProxyView& view, const model::Service& svc,
                                                  const model::ServicePort& port, const VirtualHostOptions& options);

// spec.hosts with short names resolved against the VirtualService's namespace.
std::vector<std::string> virtualServiceHosts(const model::ConfigSnapshot& snapshot, const core::Resource& vs);

// Istio's generateVirtualHostDomains for a sidecar: FQDN, the alternative names Kubernetes DNS
// resolves from the proxy's namespace ("reviews", "reviews.bookinfo", "reviews.bookinfo.svc"),
// wildcards for headless services, then the service address; each also as "name:port" when
// `portInDomains`.
std::vector<std::string> virtualHostDomains(const model::Service& svc, uint32_t port, const model::Proxy& proxy,
                                            bool portInDomains);

// Istio's util.DomainName: "host:port" (IPv6 addresses bracketed).
std::string domainName(std::string_view host, uint32_t port);

// Whether any of these VirtualServices (or their delegates) has a match with sourceLabels,
// which makes the routes depend on the proxy's labels, not just its namespace and scope.
bool usesSourceLabels(const model::ConfigSnapshot& snapshot, const std::vector<const core::Resource*>& virtualServices);

}  // namespace mesh::xds
