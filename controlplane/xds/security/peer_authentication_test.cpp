#include "controlplane/xds/security/security_filters.h"

#include "controlplane/xds/security/security_test_support.h"

namespace mesh::xds::security {
namespace {

using testing::Mesh;
using testing::proxyIn;

constexpr std::string_view kLevels = R"yaml(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: PERMISSIVE}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: orders, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  mtls: {mode: DISABLE}
  portLevelMtls:
    "8080": {mode: STRICT}
    "9090": {mode: UNSET}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: inherit, namespace: shop}
spec:
  selector: {matchLabels: {app: billing}}
  portLevelMtls:
    "7070": {mode: DISABLE}
---
# A selector in the root namespace selects nothing for PeerAuthentication.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: root-selector, namespace: istio-system}
spec:
  selector: {matchLabels: {app: web}}
  mtls: {mode: DISABLE}
)yaml";

}  // namespace

TEST_CASE("PeerAuthentication: workload (with port-level) > namespace > mesh; UNSET inherits") {
  Mesh mesh(kLevels, proxyIn("shop", {{"app", "orders"}}));
  // Workload policy, port-level override, and an UNSET port inheriting the workload's mode.
  CHECK(peerAuthenticationMode(mesh.view(), 8080) == MtlsMode::Strict);
  CHECK(peerAuthenticationMode(mesh.view(), 9090) == MtlsMode::Disable);
  CHECK(peerAuthenticationMode(mesh.view(), 7000) == MtlsMode::Disable);

  model::SidecarScope scope;
  // No workload policy: the namespace's.
  auto payments = proxyIn("shop", {{"app", "payments"}});
  CHECK(peerAuthenticationMode(mesh.viewOf(payments, scope), 8080) == MtlsMode::Permissive);
  // A workload policy without mtls inherits the namespace's mode; its port level still applies.
  auto billing = proxyIn("shop", {{"app", "billing"}});
  CHECK(peerAuthenticationMode(mesh.viewOf(billing, scope), 8080) == MtlsMode::Permissive);
  CHECK(peerAuthenticationMode(mesh.viewOf(billing, scope), 7070) == MtlsMode::Disable);
  // Another namespace: the mesh-wide policy; the root-namespace selector policy is ignored.
  auto web = proxyIn("web", {{"app", "web"}});
  CHECK(peerAuthenticationMode(mesh.viewOf(web, scope), 80) == MtlsMode::Strict);
}

TEST_CASE("PeerAuthentication: PERMISSIVE without policies; UNSET namespace policy inherits mesh") {
  Mesh none("", proxyIn("shop", {}));
  CHECK(peerAuthenticationMode(none.view(), 80) == MtlsMode::Permissive);

  Mesh unset(R"yaml(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: UNSET}}
)yaml",
             proxyIn("shop", {}));
  CHECK(peerAuthenticationMode(unset.view(), 80) == MtlsMode::Disable);
}

TEST_CASE("PeerAuthentication: several at one level, the oldest wins, then name order") {
  Mesh byAge(R"yaml(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: a-newer, namespace: shop, creationTimestamp: "2024-05-02T00:00:00Z"}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: z-older, namespace: shop, creationTimestamp: "2024-05-01T00:00:00Z"}
spec: {mtls: {mode: STRICT}}
)yaml",
             proxyIn("shop", {}));
  CHECK(peerAuthenticationMode(byAge.view(), 80) == MtlsMode::Strict);

  Mesh byName(R"yaml(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: b, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: a, namespace: shop}
spec: {mtls: {mode: DISABLE}}
)yaml",
              proxyIn("shop", {}));
  CHECK(peerAuthenticationMode(byName.view(), 80) == MtlsMode::Disable);
}

}  // namespace mesh::xds::security
