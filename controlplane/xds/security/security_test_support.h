// Test helpers for the security builders: a snapshot from inline YAML (every object must be
// valid), a proxy, its view, and Envoy messages written as text protos for exact comparison.
// Test code only.
#pragma once

#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <string>
#include <string_view>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/sidecar_scope.h"
#include "controlplane/xds/generator.h"
#include "core/loader.h"

namespace mesh::xds::security::testing {

inline model::Proxy proxyIn(std::string ns, model::Labels labels) {
  model::Proxy p;
  p.id = "sidecar~10.0.0.1~pod-1." + ns + "~" + ns + ".svc.cluster.local";
  p.workloadName = "pod-1";
  p.namespace_ = std::move(ns);
  p.labels = std::move(labels);
  p.ips = {"10.0.0.1"};
  return p;
}

class Mesh {
 public:
  explicit Mesh(std::string_view yaml, model::Proxy proxy, model::SnapshotOptions options = {})
      : proxy_(std::move(proxy)) {
    core::LoadResult loaded;
    if (!yaml.empty()) loaded = core::loadBuffer("security.yaml", yaml, {});  // "" is an empty mesh
    for (const auto& d : loaded.diagnostics) FAIL_CHECK(d.format());
    snapshot_ = model::ConfigSnapshot::build(std::move(loaded.resources), 1, options);
    for (const auto& d : snapshot_->skipped()) FAIL_CHECK(d.format());
    scope_ = model::SidecarScope::compute(*snapshot_, proxy_);
  }
  ProxyView view() const { return ProxyView{*snapshot_, proxy_, scope_, nullptr}; }
  // Another workload in the same mesh.
  ProxyView viewOf(model::Proxy&&, model::SidecarScope&) const = delete;  // the view would dangle
  ProxyView viewOf(const model::Proxy& other, model::SidecarScope& scope) const {
    scope = model::SidecarScope::compute(*snapshot_, other);
    return ProxyView{*snapshot_, other, scope, nullptr};
  }

 private:
  std::shared_ptr<const model::ConfigSnapshot> snapshot_;
  model::Proxy proxy_;
  model::SidecarScope scope_;
};

template <class M>
M textProto(std::string_view text) {
  M m;
  REQUIRE_MESSAGE(google::protobuf::TextFormat::ParseFromString(std::string(text), &m), text);
  return m;
}

template <class M>
M unpack(const google::protobuf::Any& any) {
  M m;
  REQUIRE_MESSAGE(any.UnpackTo(&m), any.type_url());
  return m;
}

// Exact equality; on failure doctest prints both sides as text protos.
inline void checkEqual(const google::protobuf::Message& actual, const google::protobuf::Message& expected) {
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  CHECK_MESSAGE(d.Compare(expected, actual), "difference:\n" << diff << "\nactual:\n" << actual.DebugString());
}

}  // namespace mesh::xds::security::testing
