// Test helpers for the LDS tests (listener_*_test.cpp): a snapshot from YAML text, sidecar and
// router proxies, the generated Listeners parsed back from their bytes, and accessors that
// unpack the typed configs the assertions look into.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/sidecar_scope.h"
#include "controlplane/xds/generator.h"
#include "controlplane/xds/listener_generator.h"
#include "core/loader.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace mesh::xds::lds_test {

using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;

// A snapshot of `yaml`; every object must pass validation (the test fails otherwise).
inline std::shared_ptr<const model::ConfigSnapshot> snapshotOf(std::string_view yaml) {
  core::LoadResult lr = core::loadBuffer("test.yaml", yaml, {});
  for (const auto& d : lr.diagnostics)
    if (d.severity == core::Severity::Error) FAIL_CHECK("load: " << d.message);
  auto snap = model::ConfigSnapshot::build(std::move(lr.resources), 1);
  for (const auto& d : snap->skipped()) FAIL_CHECK("invalid config " << d.resource << ": " << d.message);
  return snap;
}

inline model::Proxy proxyFor(model::ProxyType type, std::string_view pod, std::string_view ns, std::string_view ip,
                             model::Labels labels) {
  model::Proxy p;
  p.type = type;
  p.workloadName = std::string(pod);
  p.namespace_ = std::string(ns);
  p.ips = {std::string(ip)};
  std::string kind = type == model::ProxyType::Router ? "router" : "sidecar";
  p.id = kind + "~" + std::string(ip) + "~" + p.displayName() + "~" + p.namespace_ + ".svc.cluster.local";
  p.dnsDomain = p.namespace_ + ".svc.cluster.local";
  p.labels = std::move(labels);
  return p;
}

// Every listener the generator returns for a proxy, by name.
struct Listeners {
  std::shared_ptr<const model::ConfigSnapshot> snapshot;
  model::Proxy proxy;
  model::SidecarScope scope;
  std::vector<std::string> names;  // in generated (sorted) order
  std::map<std::string, Listener> byName;

  Listeners(std::shared_ptr<const model::ConfigSnapshot> snap, model::Proxy p, GenerationCache* cache = nullptr)
      : snapshot(std::move(snap)), proxy(std::move(p)), scope(model::SidecarScope::compute(*snapshot, proxy)) {
    XdsResources out = ListenerGenerator().generate(ProxyView{*snapshot, proxy, scope, cache}, ResourceNames{});
    for (const XdsResource& r : out) {
      Listener l;
      REQUIRE(l.ParseFromString(*r.body));
      CHECK(l.name() == r.name);
      names.push_back(r.name);
      byName[r.name] = l;
    }
  }

  bool has(const std::string& name) const { return byName.contains(name); }
  const Listener& at(const std::string& name) const {
    auto it = byName.find(name);
    REQUIRE_MESSAGE(it != byName.end(), "no listener " << name);
    return it->second;
  }
};

template <typename T>
T unpack(const google::protobuf::Any& any) {
  T out;
  REQUIRE(any.UnpackTo(&out));
  return out;
}

// The chain's terminal filter as an HCM or a tcp_proxy (REQUIREs that it is one).
inline HttpConnectionManager hcmOf(const FilterChain& chain) {
  REQUIRE(chain.filters_size() > 0);
  const auto& f = chain.filters(chain.filters_size() - 1);
  REQUIRE(f.name() == "envoy.filters.network.http_connection_manager");
  return unpack<HttpConnectionManager>(f.typed_config());
}
inline TcpProxy tcpProxyOf(const FilterChain& chain) {
  REQUIRE(chain.filters_size() > 0);
  const auto& f = chain.filters(chain.filters_size() - 1);
  REQUIRE(f.name() == "envoy.filters.network.tcp_proxy");
  return unpack<TcpProxy>(f.typed_config());
}
inline DownstreamTlsContext tlsOf(const FilterChain& chain) {
  REQUIRE(chain.has_transport_socket());
  CHECK(chain.transport_socket().name() == "envoy.transport_sockets.tls");
  return unpack<DownstreamTlsContext>(chain.transport_socket().typed_config());
}

inline std::vector<std::string> httpFilterNames(const HttpConnectionManager& hcm) {
  std::vector<std::string> out;
  for (const auto& f : hcm.http_filters()) out.push_back(f.name());
  return out;
}
inline std::vector<std::string> listenerFilterNames(const Listener& l) {
  std::vector<std::string> out;
  for (const auto& f : l.listener_filters()) out.push_back(f.name());
  return out;
}
template <typename Repeated>
std::vector<std::string> strings(const Repeated& r) {
  return {r.begin(), r.end()};
}

// The chains of `l` whose match names `port` (0: no destination port).
inline std::vector<const FilterChain*> chainsForPort(const Listener& l, uint32_t port) {
  std::vector<const FilterChain*> out;
  for (const auto& c : l.filter_chains())
    if (c.filter_chain_match().destination_port().value() == port) out.push_back(&c);
  return out;
}

inline const FilterChain* chainWithSni(const Listener& l, std::string_view sni) {
  for (const auto& c : l.filter_chains())
    for (const auto& s : c.filter_chain_match().server_names())
      if (s == sni) return &c;
  return nullptr;
}

}  // namespace mesh::xds::lds_test
