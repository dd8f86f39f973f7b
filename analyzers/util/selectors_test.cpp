#include <doctest/doctest.h>

#include "analyzers/util/selectors.h"
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
