#include "cli/describe/describe.h"

#include <doctest/doctest.h>

#include <sstream>

#include "analyzers/mesh_config.h"
#include "core/loader.h"

namespace {

using mesh::cli::describe::Request;
using mesh::cli::describe::TargetKind;

struct Described {
  std::string text;
  nlohmann::ordered_json json;
  std::string error;
};

Described run(std::string_view yaml, TargetKind kind, std::string name, std::string ns = "default") {
  mesh::core::LoadOptions options;
  options.defaultNamespace = "default";
  auto loaded = mesh::core::loadBuffer("test.yaml", yaml, options);
  REQUIRE(loaded.diagnostics.empty());
  mesh::analysis::Snapshot snapshot(std::move(loaded.resources), mesh::analysis::defaultMeshConfig(),
                                    nlohmann::json::object());
  auto d = mesh::cli::describe::describe(snapshot, Request{kind, std::move(name), std::move(ns)});
  if (!d) return {"", nullptr, d.error().message};
  return {mesh::cli::describe::renderText(*d), mesh::cli::describe::toJson(*d), ""};
}

bool hasLine(const std::string& text, std::string_view line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

size_t countPrefix(const std::string& text, std::string_view prefix) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string l; std::getline(in, l);)
    if (l.find(prefix) != std::string::npos) ++n;
  return n;
}

constexpr std::string_view kReviews = R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http-web, port: 9080, targetPort: web}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: shop, labels: {app: reviews, version: v1}}
spec:
  serviceAccountName: reviews
  containers:
  - name: reviews
    image: reviews:1
    ports: [{name: web, containerPort: 8080}]
  - {name: istio-proxy, image: proxyv2}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2, namespace: shop, labels: {app: reviews, version: v2}}
spec:
  containers:
  - name: reviews
    image: reviews:2
    ports: [{name: web, containerPort: 8080}]
  - {name: istio-proxy, image: proxyv2}
)";

}  // namespace

TEST_CASE("describe pod: header, ports by named targetPort, and istioctl's NotFound") {
  auto d = run(kReviews, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(d.text, "Pod: reviews-v1"));
  CHECK(hasLine(d.text, "   Pod Revision: default"));
  CHECK(hasLine(d.text, "   Pod Ports: 8080 (reviews)"));
  CHECK(hasLine(d.text, "Service: reviews"));
  CHECK(hasLine(d.text, "   Port: http-web 9080/HTTP targets pod port 8080"));
  CHECK(run(kReviews, TargetKind::Pod, "nope.shop").error == "pods \"nope\" not found");
  CHECK(run(kReviews, TargetKind::Service, "nope").error == "services \"nope\" not found");
  // NAME.NAMESPACE outside -n prints as name.namespace, as istioctl's kname().
  CHECK(hasLine(run(kReviews, TargetKind::Pod, "reviews-v1.shop").text, "Service: reviews.shop"));
}

TEST_CASE("describe: route summaries follow istioctl (headers, weights, additional destinations)") {
  std::string yaml = std::string(kReviews) + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, loadBalancer: {simple: LEAST_REQUEST}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /api}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}
)";
  auto v1 = run(yaml, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(v1.text, "DestinationRule: reviews for \"reviews\""));
  CHECK(hasLine(v1.text, "   Matching subsets: v1"));
  CHECK(hasLine(v1.text, "      (Non-matching subsets v2)"));
  CHECK(hasLine(v1.text, "   Traffic Policy TLS Mode: ISTIO_MUTUAL"));
  CHECK(hasLine(v1.text, "   Policies: load balancer"));
  CHECK(hasLine(v1.text, "   Load balancer: LEAST_REQUEST"));
  CHECK(hasLine(v1.text, "VirtualService: reviews"));
  CHECK(hasLine(v1.text, "   2 HTTP route(s)"));
  CHECK(hasLine(v1.text, "   Route to host \"reviews\" subset \"v1\" with weight 90% for (everything)"));
  CHECK(hasLine(v1.text, "   1 additional destination(s) that will not reach this pod"));
  auto v2 = run(yaml, TargetKind::Pod, "reviews-v2", "shop");
  CHECK(hasLine(v2.text,
                "   Route to host \"reviews\" subset \"v2\" for (Match: /api* when headers are end-user=jason)"));
  CHECK(hasLine(v2.text, "   Route to host \"reviews\" subset \"v2\" with weight 10% for (everything)"));
  CHECK(countPrefix(v2.text, "WARNING") == 0);
}

TEST_CASE("describe: subset routing without a DestinationRule, or to a subset it lacks, warns") {
  std::string vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v3}}]
)";
  auto none = run(std::string(kReviews) + vs, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(none.text, "   WARNING: Route to subset v3 but NO DESTINATION RULE defining subsets!"));
  CHECK(hasLine(none.text, "   WARNING: No destinations match pod subsets (checked 1 HTTP routes)"));
  std::string dr = R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}]
)";
  auto lacking = run(std::string(kReviews) + vs + dr, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(lacking.text, "   WARNING: Route to UNKNOWN subset v3; check DestinationRule reviews"));
  CHECK(lacking.json["warnings"].size() == 2);
}

TEST_CASE("describe: the DestinationRule Istio picks (own namespace before the root namespace)") {
  std::string yaml = std::string(kReviews) + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: everything, namespace: istio-system}
spec: {host: "*.cluster.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-local, namespace: shop}
spec: {host: "*.shop.svc.cluster.local", trafficPolicy: {tls: {mode: DISABLE}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: frontend}
spec: {host: reviews.shop.svc.cluster.local}
)";
  auto d = run(yaml, TargetKind::Service, "reviews", "shop");
  CHECK(hasLine(d.text, "DestinationRule: reviews-local for \"*.shop.svc.cluster.local\""));
  CHECK(hasLine(d.text, "   Sidecars in the namespace of reviews.frontend use that DestinationRule instead"));
  CHECK(d.json["services"][0]["destinationRule"]["name"] == "reviews-local");
}

TEST_CASE("describe: effective PeerAuthentication (workload > namespace > mesh, UNSET inherits, ports)") {
  std::string yaml = std::string(kReviews) + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mesh, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ignored-root-selector, namespace: istio-system}
spec: {selector: {matchLabels: {app: reviews}}, mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ns, namespace: shop}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: shop}
spec:
  selector: {matchLabels: {version: v1}}
  mtls: {mode: UNSET}
  portLevelMtls:
    "8080": {mode: STRICT}
    "9000": {mode: UNSET}
)";
  auto v1 = run(yaml, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(v1.text, "Effective PeerAuthentication:"));
  CHECK(hasLine(v1.text, "   Workload mTLS mode: PERMISSIVE"));
  CHECK(hasLine(v1.text, "   Port Level mTLS mode:"));
  CHECK(hasLine(v1.text, "      8080: STRICT"));
  CHECK(hasLine(v1.text, "      9000: PERMISSIVE"));
  auto v2 = run(yaml, TargetKind::Pod, "reviews-v2", "shop");
  CHECK(hasLine(v2.text, "   Workload mTLS mode: PERMISSIVE"));
  CHECK(v2.json["peerAuthentication"][0]["portLevel"].empty());
  auto none = run(kReviews, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(none.text, "   Workload mTLS mode: PERMISSIVE"));
  CHECK_FALSE(hasLine(none.text, "Applied PeerAuthentication:"));
}

TEST_CASE("describe: STRICT mTLS warns about plaintext callers only when some exist") {
  std::string strict = std::string(kReviews) + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
)";
  CHECK(countPrefix(run(strict, TargetKind::Pod, "reviews-v1", "shop").text, "STRICT mTLS rejects plaintext") == 0);
  std::string legacy = strict + R"(
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: batch, namespace: legacy}
spec:
  selector: {matchLabels: {app: batch}}
  template:
    metadata: {labels: {app: batch}}
    spec: {containers: [{name: batch, image: batch}]}
---
apiVersion: v1
kind: Pod
metadata: {name: batch-1, namespace: legacy, labels: {app: batch}}
spec: {containers: [{name: batch, image: batch}]}
---
apiVersion: v1
kind: Pod
metadata: {name: curl, namespace: legacy, labels: {app: curl}}
spec: {containers: [{name: curl, image: curl}]}
)";
  auto d = run(legacy, TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(d.text, "WARNING: STRICT mTLS rejects plaintext: these workloads have no sidecar and cannot call this "
                        "pod: batch.legacy (Deployment), curl.legacy (Pod)"));
}

TEST_CASE("describe: VirtualServices in the wrong namespace or not exported") {
  std::string yaml = std::string(kReviews) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: short, namespace: frontend}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: frontend}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: reviews.shop.svc.cluster.local}}]}]
)";
  auto d = run(yaml, TargetKind::Service, "reviews", "shop");
  CHECK(hasLine(d.text, "WARNING: VirtualService short.frontend names host \"reviews\", which means "
                        "reviews.frontend.svc.cluster.local in its namespace (no such service); use "
                        "reviews.shop.svc.cluster.local for this service"));
  CHECK(hasLine(d.text, "WARNING: VirtualService private.frontend is not exported to namespace shop (exportTo: .); "
                        "sidecars there do not use it"));
  CHECK(hasLine(d.text, "VirtualService: private.frontend"));
}

TEST_CASE("describe: an ALLOW policy shadowed by a DENY that matches the same requests") {
  std::string base = std::string(kReviews) + R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-api, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - to: [{operation: {methods: [GET], paths: [/api/v1/*]}}]
    from: [{source: {namespaces: [web]}}]
)";
  auto deny = [&](std::string_view spec) {
    return base + "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny, namespace: "
                  "shop}\nspec: " +
           std::string(spec) + "\n";
  };
  const std::string shadowed =
      "WARNING: ALLOW policy allow-api.shop is shadowed by DENY policy deny.shop: every request it allows is denied first";
  // No rules: a DENY that matches nothing.
  CHECK_FALSE(hasLine(run(deny("{action: DENY}"), TargetKind::Pod, "reviews-v1", "shop").text, shadowed));
  // An empty rule matches every request.
  auto all = run(deny("{action: DENY, rules: [{}]}"), TargetKind::Pod, "reviews-v1", "shop");
  CHECK(hasLine(all.text, shadowed));
  CHECK(hasLine(all.text, "   DENY policy deny.shop matches every request: all requests are denied"));
  // Broader: every path under /api/ from anywhere.
  CHECK(hasLine(run(deny("{action: DENY, rules: [{to: [{operation: {paths: [/api/*]}}]}]}"), TargetKind::Pod,
                    "reviews-v1", "shop")
                    .text,
                shadowed));
  // Narrower (one method the ALLOW rule does not use, or a namespace it does not allow): no warning.
  CHECK_FALSE(hasLine(run(deny("{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}"), TargetKind::Pod,
                          "reviews-v1", "shop")
                          .text,
                      shadowed));
  CHECK_FALSE(hasLine(run(deny("{action: DENY, rules: [{from: [{source: {namespaces: [other]}}]}]}"),
                          TargetKind::Pod, "reviews-v1", "shop")
                          .text,
                      shadowed));
}

TEST_CASE("describe: a workload no service selects, and an unmeshed pod") {
  std::string yaml = R"(
apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: default, labels: {app: lonely}}
spec: {containers: [{name: app, image: app, ports: [{containerPort: 53, protocol: UDP}]}]}
)";
  auto d = run(yaml, TargetKind::Pod, "lonely");
  CHECK(hasLine(d.text, "   Pod Ports: 53/UDP (app)"));
  CHECK(hasLine(d.text, "WARNING: lonely is not part of mesh; no Istio sidecar"));
  CHECK(hasLine(d.text, "WARNING: No Kubernetes Services or ServiceEntries select pod lonely (see "
                        "https://istio.io/latest/docs/ops/deployment/application-requirements/)"));
}

TEST_CASE("describe -o json: stable keys") {
  auto d = run(kReviews, TargetKind::Service, "reviews", "shop");
  std::vector<std::string> keys;
  for (const auto& [k, v] : d.json.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"kind", "name", "namespace", "workloads", "services", "peerAuthentication",
                                         "authorizationPolicies", "authorizationSummary", "warnings"});
  CHECK(d.json["kind"] == "service");
  CHECK(d.json["workloads"].size() == 2);
  const auto& svc = d.json["services"][0];
  CHECK(svc["host"] == "reviews.shop.svc.cluster.local");
  CHECK(svc["destinationRule"].is_null());
  CHECK(svc["ports"][0]["targetPort"] == 8080);
  CHECK(svc["ports"][0]["protocol"] == "HTTP");
}
