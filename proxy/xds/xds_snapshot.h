// XdsSnapshot: every xDS resource a meshproxy holds at one moment, as received. The xDS client
// builds a new snapshot for each accepted response and hands it to the ConfigConsumer; the
// data plane compiles it into its own structures and the admin endpoint dumps it. Immutable
// once built: shared between threads through shared_ptr<const XdsSnapshot>.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace mesh::proxy {

// One resource with the version the server gave it and when it arrived (config_dump shows both).
template <class Message>
struct XdsResource {
  Message resource;
  std::string version;
  std::chrono::system_clock::time_point lastUpdated;
};

template <class Message>
using XdsResourceMap = std::map<std::string, XdsResource<Message>, std::less<>>;

struct XdsSnapshot {
  XdsResourceMap<envoy::config::cluster::v3::Cluster> clusters;
  XdsResourceMap<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;  // by cluster name
  XdsResourceMap<envoy::config::listener::v3::Listener> listeners;
  XdsResourceMap<envoy::config::route::v3::RouteConfiguration> routes;
  // SDS Secrets fetched over ADS (gateway credentials); "default" and "ROOTCA" are the
  // certificate agent's and never here. Holds private keys: dumps redact them.
  XdsResourceMap<envoy::extensions::transport_sockets::tls::v3::Secret> secrets;
  // Per type URL: the version_info (or system_version_info) of the last accepted response.
  std::map<std::string, std::string, std::less<>> typeVersions;
};

// The part of the proxy that turns config into behaviour. The xDS client offers each candidate
// snapshot (the previous one plus one response's changes); an error is NACKed with its message
// as error_detail and the proxy keeps serving with the previous snapshot.
class ConfigConsumer {
 public:
  virtual ~ConfigConsumer() = default;
  // Validates and, when valid, atomically switches to `candidate`. Called from the xDS client's
  // thread; must not block on in-flight requests.
  virtual Result<void> apply(std::shared_ptr<const XdsSnapshot> candidate) = 0;
};

}  // namespace mesh::proxy
