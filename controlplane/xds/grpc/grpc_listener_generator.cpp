#include "controlplane/xds/grpc/grpc_generators.h"
#include "controlplane/xds/grpc/grpc_target.h"
#include "controlplane/xds/proto_util.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::xds {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

XdsResources GrpcListenerGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  // gRPC always names its listeners; a wildcard request has nothing meaningful to return.
  for (const std::string& name : names.list()) {
    if (!resolveGrpcTarget(view, name)) continue;  // unknown target: the client reports it missing
    HttpConnectionManager hcm;
    auto* rds = hcm.mutable_rds();
    rds->set_route_config_name(name);
    rds->mutable_config_source()->mutable_ads();
    rds->mutable_config_source()->set_resource_api_version(envoy::config::core::v3::V3);
    // Every filter carries a typed config and the router is last: gRPC rejects anything else.
    auto* fault = hcm.add_http_filters();
    fault->set_name("envoy.filters.http.fault");
    *fault->mutable_typed_config() = pack(envoy::extensions::filters::http::fault::v3::HTTPFault());
    auto* router = hcm.add_http_filters();
    router->set_name("envoy.filters.http.router");
    *router->mutable_typed_config() = pack(envoy::extensions::filters::http::router::v3::Router());
    envoy::config::listener::v3::Listener l;
    l.set_name(name);
    *l.mutable_api_listener()->mutable_api_listener() = pack(hcm);
    out.push_back(XdsResource::of(name, l));
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
