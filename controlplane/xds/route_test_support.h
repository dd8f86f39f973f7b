// Test helpers for the RDS tests (route_*_test.cpp): a snapshot from YAML text, a proxy, its
// view, and generated RouteConfigurations parsed back from their serialized bytes.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <string_view>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/sidecar_scope.h"
#include "controlplane/xds/generator.h"
#include "controlplane/xds/route_generator.h"
#include "core/loader.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::xds::test {

// A snapshot of `yaml`; every object must pass validation (the test fails otherwise).
inline std::shared_ptr<const model::ConfigSnapshot> snapshotOf(std::string_view yaml) {
  core::LoadResult lr = core::loadBuffer("test.yaml", yaml, {});
  for (const auto& d : lr.diagnostics)
    if (d.severity == core::Severity::Error) FAIL_CHECK("load: " << d.message);
  auto snap = model::ConfigSnapshot::build(std::move(lr.resources), 1);
  for (const auto& d : snap->skipped()) FAIL_CHECK("invalid config " << d.resource << ": " << d.message);
  return snap;
}

inline model::Proxy proxyIn(std::string_view ns, model::Labels labels = {},
                            model::ProxyType type = model::ProxyType::Sidecar) {
  model::Proxy p;
  p.type = type;
  p.namespace_ = std::string(ns);
  p.workloadName = "pod-1";
  std::string kind = type == model::ProxyType::Router ? "router" : "sidecar";
  p.id = kind + "~10.0.0.1~pod-1." + p.namespace_ + "~" + p.namespace_ + ".svc.cluster.local";
  p.dnsDomain = p.namespace_ + ".svc.cluster.local";
  p.labels = std::move(labels);
  return p;
}

// Everything a generator call needs, kept alive together.
struct Fixture {
  std::shared_ptr<const model::ConfigSnapshot> snapshot;
  model::Proxy proxy;
  model::SidecarScope scope;
  GenerationCache* cache = nullptr;

  Fixture(std::string_view yaml, model::Proxy p)
      : snapshot(snapshotOf(yaml)), proxy(std::move(p)), scope(model::SidecarScope::compute(*snapshot, proxy)) {}
  ProxyView view() const { return ProxyView{*snapshot, proxy, scope, cache}; }

  // The RouteConfiguration named `name`, as RouteGenerator serializes it.
  envoy::config::route::v3::RouteConfiguration routeConfig(const std::string& name) const {
    ResourceNames names;
    names.wildcard = false;
    names.names = {name};
    XdsResources out = RouteGenerator().generate(view(), names);
    REQUIRE(out.size() == 1);
    CHECK(out[0].name == name);
    envoy::config::route::v3::RouteConfiguration rc;
    REQUIRE(rc.ParseFromString(*out[0].body));
    return rc;
  }
};

inline const envoy::config::route::v3::VirtualHost* findVirtualHost(
    const envoy::config::route::v3::RouteConfiguration& rc, std::string_view name) {
  for (const auto& vh : rc.virtual_hosts())
    if (vh.name() == name) return &vh;
  return nullptr;
}

// A namespace "default" with reviews (9080, http) and ratings (8080, http) services.
inline constexpr std::string_view kServices = R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  clusterIP: 10.0.0.5
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  clusterIP: 10.0.0.6
  selector: {app: ratings}
  ports:
  - {name: http-web, port: 8080}
)";

inline std::string withServices(std::string_view yaml) { return std::string(kServices) + "---\n" + std::string(yaml); }

}  // namespace mesh::xds::test
