#include "controlplane/server/push_loop.h"

#include <doctest/doctest.h>

#include <mutex>
#include <thread>

#include "backends/memory/memory_store.h"
#include "core/loader.h"

namespace mesh::server {
namespace {

core::Resource parseOne(std::string_view yaml) {
  auto loaded = core::loadBuffer("test.yaml", yaml, core::LoadOptions{});
  REQUIRE(loaded.resources.size() == 1);
  return loaded.resources.front();
}

// Waits until the server's published generation reaches `version`.
std::shared_ptr<const PushContext> waitFor(const AdsServer& ads, uint64_t version) {
  for (int i = 0; i < 300; ++i) {
    auto push = ads.current();
    if (push && push->snapshot->version() >= version) return push;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("no push reached generation " << version);
  return nullptr;
}

std::set<std::string, std::less<>> types(std::initializer_list<std::string_view> list) {
  std::set<std::string, std::less<>> out;
  for (auto t : list) out.emplace(t);
  return out;
}

TEST_CASE("push loop: first snapshot at start, then one debounced push per change naming the types it alters") {
  backends::MemoryStore store({parseOne(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: payments-api}}
)")});
  auto generators = xds::GeneratorSet::standard();
  AdsServer ads(generators, AdsServerOptions{}, AdsServerHooks{});
  PushLoopOptions options;
  options.debounce = std::chrono::milliseconds(20);
  std::vector<std::string> triggers;
  PushLoopHooks hooks;
  hooks.triggered = [&](std::string_view reason) { triggers.emplace_back(reason); };
  PushLoop loop(store, ads, options, hooks);
  REQUIRE(loop.start());
  auto first = ads.current();
  REQUIRE(first);
  CHECK(first->snapshot->version() == 1);
  CHECK(first->affectedTypes.empty());  // everything
  CHECK(loop.ready());

  REQUIRE(store.apply(parseOne(R"(
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v1, namespace: payments}
spec: {address: 10.0.0.1, labels: {app: payments-api}}
)")));
  auto second = waitFor(ads, 2);
  // No DNS ServiceEntry holds endpoints inline in CDS: EDS alone.
  CHECK(second->affectedTypes == types({xds::type_url::kEndpoint}));
  CHECK(second->snapshot->registry().endpoints(*second->snapshot->registry().services().front(), 8080).size() == 1);

  REQUIRE(store.apply(parseOne(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http: [{route: [{destination: {host: payments-api.payments.svc.cluster.local}}]}]
)")));
  auto third = waitFor(ads, 3);
  CHECK(third->affectedTypes == types({xds::type_url::kListener, xds::type_url::kRoute}));

  REQUIRE(store.remove(core::ResourceKey{"networking.istio.io", "ServiceEntry", "payments", "payments"}));
  auto fourth = waitFor(ads, 4);
  CHECK(fourth->affectedTypes.empty());

  // With a DNS ServiceEntry selecting WorkloadEntries, their addresses are in its CDS cluster.
  REQUIRE(store.apply(parseOne(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-dns, namespace: payments}
spec:
  hosts: [payments-dns.example.com]
  resolution: DNS
  ports: [{number: 8080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: payments-api}}
)")));
  waitFor(ads, 5);
  REQUIRE(store.apply(parseOne(R"(
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v1, namespace: payments}
spec: {address: 10.0.0.2, labels: {app: payments-api}}
)")));
  auto sixth = waitFor(ads, 6);
  CHECK(sixth->affectedTypes == types({xds::type_url::kEndpoint, xds::type_url::kCluster}));
  loop.stop();
  CHECK(triggers == std::vector<std::string>{"endpoint", "config", "config", "config", "endpoint"});
}

TEST_CASE("push loop: requestPush for input outside the store; snapshots carry the JWT keys of the hook") {
  backends::MemoryStore store;
  auto generators = xds::GeneratorSet::standard();
  AdsServer ads(generators, AdsServerOptions{}, AdsServerHooks{});
  PushLoopOptions options;
  options.debounce = std::chrono::milliseconds(20);
  std::mutex mu;
  auto keys = std::make_shared<model::JwtKeys>();
  std::vector<uint64_t> built;
  std::shared_ptr<model::JwtKeys> fetchedDuringBuild;  // keys the hook "fetches" when it sees a snapshot
  PushLoopHooks hooks;
  hooks.jwtKeys = [&] {
    std::lock_guard lock(mu);
    return std::shared_ptr<const model::JwtKeys>(keys);
  };
  hooks.snapshotBuilt = [&](const model::ConfigSnapshot& s) {
    std::lock_guard lock(mu);
    built.push_back(s.version());
    if (!fetchedDuringBuild) return false;
    keys = std::move(fetchedDuringBuild);
    return true;
  };
  PushLoop loop(store, ads, options, hooks);
  REQUIRE(loop.start());
  CHECK(ads.current()->snapshot->options().jwtKeys->byJwksUri.empty());

  {
    std::lock_guard lock(mu);
    auto next = std::make_shared<model::JwtKeys>();
    next->byJwksUri["https://keys.example/jwks.json"] = R"({"keys":[{"kid":"a"}]})";
    keys = next;
  }
  loop.requestPush(types({xds::type_url::kListener}));
  auto second = waitFor(ads, 2);
  CHECK(second->affectedTypes == types({xds::type_url::kListener}));
  CHECK(second->snapshot->options().jwtKeys->byJwksUri.size() == 1);

  // Keys that arrive while the hook looks at a snapshot (a new jwksUri fetched on the push
  // path) are in the snapshot that is published: it is built once more.
  {
    std::lock_guard lock(mu);
    fetchedDuringBuild = std::make_shared<model::JwtKeys>();
    fetchedDuringBuild->byJwksUri["https://other.example/jwks.json"] = R"({"keys":[{"kid":"b"}]})";
  }
  loop.requestPush(types({xds::type_url::kListener}));
  auto third = waitFor(ads, 3);
  CHECK(third->snapshot->options().jwtKeys->byJwksUri.contains("https://other.example/jwks.json"));
  loop.stop();
  std::lock_guard lock(mu);
  CHECK(built == std::vector<uint64_t>{1, 2, 3});  // the hook sees the first build of each version
}

}  // namespace
}  // namespace mesh::server
