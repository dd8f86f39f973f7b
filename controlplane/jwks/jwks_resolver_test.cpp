#include "controlplane/jwks/jwks_resolver.h"

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <thread>

#include "core/loader.h"

namespace mesh::jwks {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKeysA = R"({"keys":[{"kty":"RSA","kid":"a","e":"AQAB","n":"AAAA"}]})";
constexpr std::string_view kKeysB = R"({"keys":[{"kty":"RSA","kid":"b","e":"AQAB","n":"BBBB"}]})";

// Answers from a table the test edits; a URL missing from it is a failed fetch.
class FakeFetcher final : public JwksFetcher {
 public:
  struct State {
    std::mutex mu;
    std::map<std::string, std::string> bodies;
    std::map<std::string, int> calls;
    std::map<std::string, std::chrono::milliseconds> timeouts;
    std::chrono::milliseconds delay{0};  // each answer takes this long (a slow key server)
    void set(const std::string& url, std::string_view body) {
      std::lock_guard lock(mu);
      bodies[url] = std::string(body);
    }
    void erase(const std::string& url) {
      std::lock_guard lock(mu);
      bodies.erase(url);
    }
    int callsTo(const std::string& url) {
      std::lock_guard lock(mu);
      return calls[url];
    }
  };
  explicit FakeFetcher(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Result<std::string> get(const std::string& url, std::chrono::milliseconds timeout,
                          const std::atomic<bool>&) override {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(state_->mu);
      delay = state_->delay;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(state_->mu);
    ++state_->calls[url];
    state_->timeouts[url] = timeout;
    auto it = state_->bodies.find(url);
    if (it == state_->bodies.end()) return fail(ErrorCode::Unavailable, url + ": connection refused");
    return it->second;
  }

 private:
  std::shared_ptr<State> state_;
};

// Polls `check` for up to 10 s (the resolver works on its own thread).
template <class F>
bool eventually(F check) {
  for (int i = 0; i < 1000; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return check();
}

struct Harness {
  std::shared_ptr<FakeFetcher::State> state = std::make_shared<FakeFetcher::State>();
  std::atomic<int> changes{0};
  JwksResolver resolver;
  explicit Harness(JwksResolverOptions options) : resolver(std::make_unique<FakeFetcher>(state), options) {
    resolver.start([this] { ++changes; });
  }
  std::string keysFor(std::string_view uri, std::string_view issuer = "") {
    const std::string* k = resolver.keys()->find(uri, issuer);
    return k ? *k : "";
  }
};

// Sources without a `timeout` of their own.
JwksSources sources(std::initializer_list<JwksSource> list) {
  JwksSources out;
  for (const JwksSource& s : list) out.emplace(s, 0ms);
  return out;
}

JwksResolverOptions fast() {
  JwksResolverOptions o;
  o.refresh = 50ms;
  o.firstRetry = 10ms;
  o.maxRetry = 40ms;
  return o;
}

}  // namespace

TEST_CASE("jwksSources: jwksUri and issuer-only rules with their timeouts; inline jwks needs no fetch") {
  auto loaded = core::loadBuffer("ra.yaml", R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: a, namespace: shop}
spec:
  jwtRules:
  - {issuer: "https://inline.example", jwks: '{"keys":[]}'}
  - {issuer: "https://one.example", jwksUri: "https://keys.example/jwks.json", timeout: 2s}
  - {issuer: "https://discover.example"}
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: b, namespace: web}
spec:
  jwtRules:
  - {issuer: "https://two.example", jwksUri: "https://keys.example/jwks.json", timeout: 500ms}
)yaml",
                                 {});
  REQUIRE(loaded.diagnostics.empty());
  auto snapshot = model::ConfigSnapshot::build(std::move(loaded.resources), 1);
  // One source per jwksUri, with the longest timeout of the rules naming it.
  CHECK(jwksSources(*snapshot) ==
        JwksSources{{{"", "https://discover.example"}, 0ms}, {{"https://keys.example/jwks.json", ""}, 2000ms}});
}

TEST_CASE("JwksResolver fetches a tracked jwksUri off the caller's thread and reports the change") {
  Harness h(fast());
  h.state->set("https://keys.example/jwks.json", kKeysA);
  CHECK(h.keysFor("https://keys.example/jwks.json").empty());
  // A new source: track() waits for its first fetch, so the push that follows has the keys.
  CHECK(h.resolver.track(sources({{"https://keys.example/jwks.json", ""}})));
  CHECK(h.keysFor("https://keys.example/jwks.json") == kKeysA);
  CHECK(eventually([&] { return h.changes == 1; }));  // the callback runs just after the keys change

  SUBCASE("a rotation is picked up at the next refresh") {
    int before = h.changes;
    h.state->set("https://keys.example/jwks.json", kKeysB);
    REQUIRE(eventually([&] { return h.keysFor("https://keys.example/jwks.json") == kKeysB; }));
    CHECK(eventually([&] { return h.changes > before; }));
  }
  SUBCASE("a failed refresh keeps the last good keys and retries") {
    h.state->erase("https://keys.example/jwks.json");
    int calls = h.state->callsTo("https://keys.example/jwks.json");
    REQUIRE(eventually([&] { return h.state->callsTo("https://keys.example/jwks.json") > calls + 2; }));
    CHECK(h.keysFor("https://keys.example/jwks.json") == kKeysA);
  }
  SUBCASE("an untracked source is forgotten") {
    h.resolver.track(JwksSources{});
    CHECK(h.resolver.keys()->byJwksUri.empty());
  }
}

TEST_CASE("JwksResolver: track() waits for a new source's first fetch at most its timeout") {
  JwksResolverOptions o = fast();
  o.fetchTimeout = 100ms;
  Harness h(o);
  SUBCASE("a failed first fetch ends the wait; nothing changed") {
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(h.resolver.track(sources({{"https://down.example/jwks.json", ""}})));
    CHECK(h.state->callsTo("https://down.example/jwks.json") >= 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  }
  SUBCASE("a slow key server: the wait ends at the budget, the keys come with a later push") {
    h.state->set("https://slow.example/jwks.json", kKeysA);
    h.state->delay = 1500ms;
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(h.resolver.track(sources({{"https://slow.example/jwks.json", ""}})));
    CHECK(std::chrono::steady_clock::now() - t0 < 1200ms);
    REQUIRE(eventually([&] { return h.keysFor("https://slow.example/jwks.json") == kKeysA; }));
    CHECK(eventually([&] { return h.changes == 1; }));
  }
  SUBCASE("sources already tracked are not waited for again") {
    h.state->set("https://keys.example/jwks.json", kKeysA);
    CHECK(h.resolver.track(sources({{"https://keys.example/jwks.json", ""}})));
    h.state->delay = 1500ms;
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(h.resolver.track(sources({{"https://keys.example/jwks.json", ""}})));
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  }
}

TEST_CASE("JwksResolver: an unchanged refresh does not report a change") {
  JwksResolverOptions o = fast();
  Harness h(o);
  h.state->set("https://keys.example/jwks.json", kKeysA);
  h.resolver.track(sources({{"https://keys.example/jwks.json", ""}}));
  REQUIRE(eventually([&] { return h.changes == 1; }));
  REQUIRE(eventually([&] { return h.state->callsTo("https://keys.example/jwks.json") >= 3; }));
  CHECK(h.changes == 1);
}

TEST_CASE("JwksResolver: an issuer alone is resolved through its OpenID discovery document") {
  Harness h(fast());
  h.state->set("https://login.example/.well-known/openid-configuration",
               R"({"issuer":"https://login.example/","jwks_uri":"https://login.example/certs"})");
  h.state->set("https://login.example/certs", kKeysA);
  h.resolver.track(sources({{"", "https://login.example/"}}));
  REQUIRE(eventually([&] { return h.keysFor("", "https://login.example/") == kKeysA; }));
  CHECK(h.resolver.keys()->byJwksUri.empty());
}

TEST_CASE("JwksResolver: what is not a key set is refused, and nothing is published") {
  Harness h(fast());
  h.state->set("https://keys.example/html", "<html>sign in</html>");
  h.state->set("https://keys.example/empty", R"({"keys":[]})");
  h.state->set("https://login.example/.well-known/openid-configuration", R"({"issuer":"x"})");
  h.resolver.track(
      sources({{"https://keys.example/html", ""}, {"https://keys.example/empty", ""}, {"", "https://login.example"}}));
  REQUIRE(eventually([&] {
    return h.state->callsTo("https://keys.example/html") >= 2 && h.state->callsTo("https://keys.example/empty") >= 2 &&
           h.state->callsTo("https://login.example/.well-known/openid-configuration") >= 2;
  }));
  CHECK(h.changes == 0);
  CHECK(*h.resolver.keys() == model::JwtKeys{});
}

TEST_CASE("JwksResolver: failures back off, first retry then doubling up to the cap") {
  JwksResolverOptions o;
  o.refresh = std::chrono::hours(1);
  o.firstRetry = 10ms;
  o.maxRetry = 20ms;
  Harness h(o);
  h.resolver.track(sources({{"https://down.example/jwks.json", ""}}));
  REQUIRE(eventually([&] { return h.state->callsTo("https://down.example/jwks.json") >= 4; }));
  // The key set appears once the server does, at the next retry, without a config change.
  h.state->set("https://down.example/jwks.json", kKeysB);
  REQUIRE(eventually([&] { return h.keysFor("https://down.example/jwks.json") == kKeysB; }));
  CHECK(eventually([&] { return h.changes == 1; }));
}

TEST_CASE("JwksResolver: a rule's timeout bounds its fetches (capped), the default otherwise") {
  JwksResolverOptions o = fast();
  o.fetchTimeout = 5s;
  o.maxFetchTimeout = 30s;
  Harness h(o);
  h.resolver.track(JwksSources{{{"https://a.example/jwks.json", ""}, 2s},
                               {{"https://b.example/jwks.json", ""}, 0ms},
                               {{"https://c.example/jwks.json", ""}, 10min}});
  REQUIRE(eventually([&] {
    std::lock_guard lock(h.state->mu);
    return h.state->timeouts.size() == 3;
  }));
  std::lock_guard lock(h.state->mu);
  CHECK(h.state->timeouts["https://a.example/jwks.json"] == 2s);
  CHECK(h.state->timeouts["https://b.example/jwks.json"] == 5s);
  CHECK(h.state->timeouts["https://c.example/jwks.json"] == 30s);
}

}  // namespace mesh::jwks
