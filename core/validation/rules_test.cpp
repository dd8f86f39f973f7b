// Focused tests of the rule families: durations, names and hosts, addresses, regexes, weights,
// authorization policies, snake_case proto names, warnings.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/loader.h"
#include "core/validation/duration.h"
#include "core/validation/istio_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validate.h"

using namespace mesh::core;
using namespace mesh::core::validation;

namespace {

// "field: message" of every finding of `severity` for one YAML document.
std::vector<std::string> findings(std::string_view yaml, Severity severity = Severity::Error) {
  auto loaded = loadBuffer("t.yaml", yaml, {});
  std::vector<std::string> out;
  for (const auto& d : loaded.diagnostics) out.push_back(d.field + ": " + d.message);
  for (const auto& d : validateAll(loaded.resources))
    if (d.severity == severity) out.push_back(d.field + ": " + d.message);
  return out;
}

std::string vsWithRoute(std::string_view route) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n"
         "  http:\n  - route:\n" +
         std::string(route);
}

std::string policy(std::string_view spec) {
  return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n" + std::string(spec);
}

}  // namespace

TEST_CASE("durations follow Go's time.ParseDuration") {
  CHECK(parseDuration("2s") == 2 * kSecond);
  CHECK(parseDuration("100ms") == 100 * kMillisecond);
  CHECK(parseDuration("1.5s") == 1500 * kMillisecond);
  CHECK(parseDuration("1h30m") == 5400 * kSecond);
  CHECK(parseDuration("0") == 0);
  CHECK(parseDuration("-5s") == -5 * kSecond);
  CHECK(parseDuration("10us") == 10000);
  CHECK(parseDuration(".5s") == 500 * kMillisecond);
  std::string why;
  CHECK_FALSE(parseDuration("2x", &why));
  CHECK(why == "unknown unit \"x\"");
  CHECK_FALSE(parseDuration("5"));
  CHECK_FALSE(parseDuration(""));
  CHECK_FALSE(parseDuration("s"));
  CHECK_FALSE(parseDuration("1.s.") );
  CHECK(durationError("2x") == "invalid duration \"2x\": use a number with a unit (ns, us, ms, s, m, h)");
}

TEST_CASE("Istio durations must be at least 1ms and whole milliseconds") {
  auto errs = findings(vsWithRoute("    - destination: {host: r}\n    timeout: 1500us\n    retries: {attempts: 2, perTryTimeout: 0s}\n"));
  REQUIRE(errs.size() == 2);
  CHECK(errs[0] == "spec.http[0].retries.perTryTimeout: duration 0s is too short: must be at least 1ms");
  CHECK(errs[1] == "spec.http[0].timeout: duration 1500us is finer than 1ms: Istio supports whole milliseconds");
}

TEST_CASE("Kubernetes names and labels") {
  CHECK(isDns1123Label("reviews-v1"));
  CHECK_FALSE(isDns1123Label("Reviews"));
  CHECK_FALSE(isDns1123Label("-a"));
  CHECK_FALSE(isDns1123Label(std::string(64, 'a')));
  CHECK(isDns1123Subdomain("reviews.bookinfo"));
  CHECK_FALSE(isDns1123Subdomain("reviews..bookinfo"));
  CHECK(isDns1035Label("svc1"));
  CHECK_FALSE(isDns1035Label("1svc"));
  CHECK(checkQualifiedName("app.kubernetes.io/name").empty());
  CHECK(checkQualifiedName("version").empty());
  CHECK_FALSE(checkQualifiedName("app/").empty());
  CHECK_FALSE(checkQualifiedName("Example.com/app").empty());
  CHECK(checkLabelValue("").empty());
  CHECK(checkLabelValue("v1.2_3-x").empty());
  CHECK_FALSE(checkLabelValue("v1 beta").empty());
}

TEST_CASE("hosts: FQDNs, wildcards and namespace/host entries") {
  CHECK(checkWildcardDomain("reviews").empty());
  CHECK(checkWildcardDomain("*.example.com").empty());
  CHECK(checkWildcardDomain("*").empty());
  CHECK(checkWildcardDomain("*foo.example.com").empty());  // Istio allows '*' to start the first label
  CHECK(checkWildcardDomain("istio.io.").empty());
  CHECK(checkWildcardDomain("foo.*.com") == "invalid host \"foo.*.com\": label \"*\" must be lowercase letters, digits and '-'");
  CHECK(checkWildcardDomain("a*b.com") == "invalid host \"a*b.com\": a wildcard '*' may only start the first label");
  CHECK(checkFqdn("example.123") == "invalid host \"example.123\": the top-level domain cannot be all digits");
  CHECK(checkNamespaceHost("./*", false).empty());
  CHECK(checkNamespaceHost("*/*", false).empty());
  CHECK(checkNamespaceHost("~/*", false).empty());
  CHECK(checkNamespaceHost("prod/*.example.com", false).empty());
  CHECK(checkNamespaceHost("foo.example.com", true).empty());  // legacy gateway form
  CHECK(checkNamespaceHost("*/192.168.1.1", true).empty());    // gateways may name an IP
  CHECK_FALSE(checkNamespaceHost("~/foo.com", true).empty());
  CHECK_FALSE(checkNamespaceHost("foo.example.com", false).empty());
  CHECK_FALSE(checkNamespaceHost("prod/reviews", false).empty());
  CHECK(hostsOverlap("*.example.com", "api.example.com"));
  CHECK(hostsOverlap("*.com", "*.example.com"));
  CHECK_FALSE(hostsOverlap("api.example.com", "web.example.com"));
  CHECK(hostSubsetOf("en.wikipedia.org", "*.wikipedia.org"));
  CHECK_FALSE(hostSubsetOf("*.wikipedia.org", "en.wikipedia.org"));
}

TEST_CASE("addresses and CIDRs") {
  CHECK(isIpv4("10.0.0.1"));
  CHECK_FALSE(isIpv4("10.0.0.256"));
  CHECK(isIpv6("2001:db8::1"));
  CHECK(isCidr("10.0.0.0/8"));
  CHECK(isCidr("2001:db8::/32"));
  CHECK_FALSE(isCidr("10.0.0.0/33"));
  CHECK_FALSE(isCidr("10.0.0.0/08"));
  CHECK(checkIpOrCidr("1.2.3.4").empty());
  CHECK(checkIpOrCidr("host.example.com") == "\"host.example.com\" is not a valid IP address");
}

TEST_CASE("regexes are checked with RE2 and report its error") {
  CHECK(checkRegex("^/api/v[0-9]+$").empty());
  CHECK(checkRegex("(a") == "missing ): (a");
  CHECK_FALSE(checkRegex("(?<=a)b").empty());  // lookbehind is not RE2
  CHECK(checkRegex(std::string(1025, 'a')) == "regex is longer than 1024 characters");
}

TEST_CASE("route weights are relative, as Istio has validated them since 1.15") {
  // 3:1 is fine: the sum need not be 100.
  CHECK(findings(vsWithRoute("    - destination: {host: r, subset: a}\n      weight: 3\n"
                             "    - destination: {host: r, subset: b}\n      weight: 1\n"))
            .empty());
  // One destination without weight gets all traffic.
  CHECK(findings(vsWithRoute("    - destination: {host: r}\n")).empty());
  auto errs = findings(vsWithRoute("    - destination: {host: r, subset: a}\n      weight: -1\n"
                                   "    - destination: {host: r, subset: b}\n      weight: 5\n"));
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "spec.http[0].route[0].weight: weight -1 must not be negative");
  errs = findings(vsWithRoute("    - destination: {host: r, subset: a}\n      weight: 0\n"
                              "    - destination: {host: r, subset: b}\n"));
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "spec.http[0].route: weights sum to 0: at least one destination needs a positive weight");
}

TEST_CASE("retryOn policies and HTTP status codes") {
  CHECK(checkRetryOnPolicy("5xx").empty());
  CHECK(checkRetryOnPolicy("503").empty());
  CHECK(checkRetryOnPolicy("unavailable").empty());
  CHECK_FALSE(checkRetryOnPolicy("599").empty());
  CHECK_FALSE(checkRetryOnPolicy("timeout").empty());
}

TEST_CASE("authorization policies") {
  CHECK(findings(policy("  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - {}\n")).empty());
  CHECK(findings(policy("  rules:\n  - to:\n    - operation: {ports: [\"0\", \"65535\"], paths: [\"/a/{*}/b\", \"/c/{**}\"]}\n")).empty());
  auto errs = findings(policy("  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - from:\n    - source: {principals: [a]}\n"
                              "    when:\n    - key: source.principal\n      values: [a]\n"));
  REQUIRE(errs.size() == 2);
  CHECK(errs[0] == "spec.rules[0].from[0].source.principals: principals is not supported with action CUSTOM");
  CHECK(errs[1] == "spec.rules[0].when[0].key: condition on source.principal is not supported with action CUSTOM");
  errs = findings(policy("  rules:\n  - when:\n    - key: request.headers\n      values: [x]\n"
                         "    - key: destination.port\n      values: [\"70000\"]\n"
                         "    - key: source.ip\n      notValues: [\"1.2.3\"]\n"
                         "    - key: experimental.envoy.filters.network.mysql_proxy[db.table]\n      values: [\"[update]\"]\n"));
  REQUIRE(errs.size() == 3);
  CHECK(errs[0] == "spec.rules[0].when[0].key: invalid condition key \"request.headers\": use request.headers[<name>]");
  CHECK(errs[1] == "spec.rules[0].when[1].values[0]: port \"70000\" must be a number in 0..65535");
  CHECK(errs[2] == "spec.rules[0].when[2].notValues[0]: \"1.2.3\" is not a valid IP address");
  errs = findings(policy("  rules:\n  - to:\n    - operation: {methods: [\"\"]}\n"));
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "spec.rules[0].to[0].operation.methods[0]: empty values are not allowed");
}

TEST_CASE("warnings do not fail validation") {
  std::string yaml = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n"
                     "  host: r\n  workloadSelector: {}\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 5}\n";
  CHECK(findings(yaml).empty());
  auto warnings = findings(yaml, Severity::Warning);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == "spec.trafficPolicy.outlierDetection.consecutiveErrors: consecutiveErrors is deprecated: use "
                       "consecutiveGatewayErrors or consecutive5xxErrors");
  CHECK(warnings[1] == "spec.workloadSelector: workload selector has no labels: it selects every workload in the namespace");
}

TEST_CASE("a field given in both spellings is reported") {
  auto errs = findings(vsWithRoute("    - destination: {host: r}\n    mirror_percent: 5\n    mirrorPercent: 6\n"));
  REQUIRE_FALSE(errs.empty());
  CHECK(errs[0] == "spec.http[0]: field \"mirrorPercent\" is set twice (as mirrorPercent and its snake_case name)");
}

TEST_CASE("kinds without a schema are checked for metadata only") {
  CHECK(findings("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {anything: goes}\n").empty());
  auto errs = findings("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: C}\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].starts_with("metadata.name: name \"C\" must be a DNS subdomain"));
}
