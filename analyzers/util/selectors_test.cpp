#include <doctest/doctest.h>

#include "analyzers/util/selectors.h"
#include "analyzers/util/workload_test_support.h"
#include "core/loader.h"

using namespace mesh;
using namespace mesh::analysis;

namespace {

const core::Node* specOf(const core::LoadResult& lr) { return lr.resources.at(0).spec(); }

core::LoadResult load(std::string_view yaml) { return core::loadBuffer("t.yaml", yaml, {}); }

}  // namespace

TEST_CASE("plain map selectors need every pair; empty selects everything") {
  Labels pod{{"app", "a"}, {"version", "v1"}};
  CHECK(LabelSelector::fromSet(Labels{{"app", "a"}}).matches(pod));
  CHECK_FALSE(LabelSelector::fromSet(Labels{{"app", "a"}, {"x", "y"}}).matches(pod));
  CHECK(LabelSelector::fromSet(Labels{}).matches(pod));
  CHECK(LabelSelector::fromSet(static_cast<const core::Node*>(nullptr)).empty());
  CHECK(LabelSelector::fromSet(Labels{{"b", "2"}, {"a", "1"}}).toString() == "a=1,b=2");
}

TEST_CASE("LabelSelector with matchExpressions follows Kubernetes") {
  auto lr = load(R"(apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: n}
spec:
  matchLabels: {app: a}
  matchExpressions:
  - {key: tier, operator: In, values: [web, api]}
  - {key: canary, operator: DoesNotExist}
  - {key: zone, operator: NotIn, values: [z1]}
  - {key: app, operator: Exists}
)");
  REQUIRE(lr.resources.size() == 1);
  auto s = LabelSelector::fromLabelSelector(specOf(lr));
  CHECK(s.matches(Labels{{"app", "a"}, {"tier", "web"}}));
  CHECK(s.matches(Labels{{"app", "a"}, {"tier", "api"}, {"zone", "z2"}}));
  CHECK_FALSE(s.matches(Labels{{"app", "a"}, {"tier", "web"}, {"zone", "z1"}}));
  CHECK_FALSE(s.matches(Labels{{"app", "a"}, {"tier", "web"}, {"canary", "1"}}));
  CHECK_FALSE(s.matches(Labels{{"app", "a"}}));
  CHECK(s.toString() == "app=a,app,!canary,tier in (api,web),zone notin (z1)");
  CHECK(LabelSelector::fromLabelSelector(nullptr).selectsNothing());
  CHECK_FALSE(LabelSelector::fromLabelSelector(nullptr).matches(Labels{}));
}

TEST_CASE("labelValue reads a labels mapping as labelsFrom does") {
  auto lr = load(R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n, labels: {app: web, tier: [a, b], zone: null}}
)");
  REQUIRE(lr.resources.size() == 1);
  const core::Node* labels = lr.resources[0].labels();
  Labels copied = labelsFrom(labels);
  for (std::string_view key : {"app", "tier", "zone", "missing"}) {
    auto it = copied.find(key);
    CHECK(labelValue(labels, key) ==
          (it == copied.end() ? std::nullopt : std::optional<std::string_view>(it->second)));
  }
  CHECK(LabelSelector::fromSet(Labels{{"tier", ""}}).matches(lr.resources[0]));
  CHECK_FALSE(labelValue(nullptr, "app"));
}

TEST_CASE("selectPods takes candidates from the label index and keeps Snapshot order") {
  auto snapshot = workload_testing::snapshotOf(R"(apiVersion: v1
kind: Pod
metadata: {name: z, namespace: b, labels: {app: web, tier: edge}}
---
apiVersion: v1
kind: Pod
metadata: {name: y, namespace: a, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: a, labels: {app: web, tier: edge, list: [1]}}
---
apiVersion: v1
kind: Pod
metadata: {name: w, namespace: a, labels: {app: api}}
)");
  auto names = [](const std::vector<const core::Resource*>& pods) {
    std::vector<std::string> out;
    for (const core::Resource* p : pods) out.push_back(std::string(p->namespace_()) + "/" + std::string(p->name()));
    return out;
  };
  using Strings = std::vector<std::string>;
  auto web = LabelSelector::fromSet(Labels{{"app", "web"}});
  CHECK(names(selectPods(*snapshot, web)) == Strings{"a/x", "a/y", "b/z"});
  CHECK(names(selectPods(*snapshot, web, "a")) == Strings{"a/x", "a/y"});
  CHECK(names(selectPods(*snapshot, web, "c")).empty());
  // The rarest requirement gives the candidates: tier=edge has two pods, app=web three.
  auto edge = LabelSelector::fromSet(Labels{{"app", "web"}, {"tier", "edge"}});
  CHECK(podCandidates(*snapshot, edge).size() == 2);
  CHECK(names(selectPods(*snapshot, edge)) == Strings{"a/x", "b/z"});
  // A non-scalar label value reads as "", as in labelsFrom().
  CHECK(names(selectPods(*snapshot, LabelSelector::fromSet(Labels{{"list", ""}}))) == Strings{"a/x"});
  // No equality requirement: every pod (of the namespace) is a candidate.
  CHECK(names(selectPods(*snapshot, LabelSelector::fromSet(Labels{}), "a")) == Strings{"a/w", "a/x", "a/y"});
  CHECK(selectPods(*snapshot, LabelSelector::fromLabelSelector(nullptr)).empty());
  CHECK(firstSelectedPod(*snapshot, web, "b")->name() == "z");
  CHECK(firstSelectedPod(*snapshot, LabelSelector::fromSet(Labels{{"app", "db"}})) == nullptr);
}
