// SDS for gateways: credentialName Secrets (kubernetes.io/tls and generic, data and stringData),
// their "-cacert" companions, and who may read what.
#include <doctest/doctest.h>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/secret_generator.h"

namespace mesh::xds::sds_test {
namespace {

using envoy::extensions::transport_sockets::tls::v3::Secret;

// tls.crt "CERT\n", tls.key "KEY\n", ca.crt "CA\n" in base64.
constexpr std::string_view kConfig = R"(apiVersion: v1
kind: Secret
metadata: {name: shop-cert, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: Q0VSVAo=, tls.key: S0VZCg==, ca.crt: Q0EK}
---
apiVersion: v1
kind: Secret
metadata: {name: generic, namespace: istio-system}
type: Opaque
stringData: {cert: "GCERT\n", key: "GKEY\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: generic-cacert, namespace: istio-system}
stringData: {cacert: "GCA\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: other-ns, namespace: apps}
stringData: {tls.crt: "X\n", tls.key: "Y\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: granted, namespace: certs}
stringData: {tls.crt: "GR\n", tls.key: "GK\n"}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: istio-system}]
  to: [{group: "", kind: Secret, name: granted}]
)";

struct Fixture {
  std::shared_ptr<const model::ConfigSnapshot> snapshot = testing::snapshotFromYaml(kConfig);

  std::map<std::string, Secret> generate(model::Proxy proxy, std::vector<std::string> names,
                                        bool localPeer = true) const {
    proxy.localPeer = localPeer;
    model::SidecarScope scope = model::SidecarScope::compute(*snapshot, proxy);
    ProxyView view{*snapshot, proxy, scope, nullptr};
    ResourceNames requested;
    requested.wildcard = false;
    std::ranges::sort(names);
    requested.names = names;
    std::map<std::string, Secret> out;
    for (const XdsResource& r : SecretGenerator().generate(view, requested)) {
      Secret s;
      REQUIRE(s.ParseFromString(*r.body));
      CHECK(s.name() == r.name);
      out.emplace(r.name, s);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a gateway gets its namespace's TLS Secrets as tls_certificate and their CA as validation_context") {
  Fixture f;
  auto gw = testing::routerProxy("ingress-1", "istio-system");
  auto out = f.generate(gw, {"kubernetes://shop-cert", "kubernetes://shop-cert-cacert", "kubernetes://generic",
                             "kubernetes://generic-cacert", "kubernetes://istio-system/shop-cert"});
  REQUIRE(out.size() == 5);
  CHECK(out["kubernetes://shop-cert"].tls_certificate().certificate_chain().inline_bytes() == "CERT\n");
  CHECK(out["kubernetes://shop-cert"].tls_certificate().private_key().inline_bytes() == "KEY\n");
  CHECK_FALSE(out["kubernetes://shop-cert"].has_validation_context());
  CHECK(out["kubernetes://shop-cert-cacert"].validation_context().trusted_ca().inline_bytes() == "CA\n");
  CHECK(out["kubernetes://generic"].tls_certificate().certificate_chain().inline_bytes() == "GCERT\n");
  // A Secret named "<name>-cacert" holds the CA when it exists (Istio's GetCaCert).
  CHECK(out["kubernetes://generic-cacert"].validation_context().trusted_ca().inline_bytes() == "GCA\n");
  CHECK(out["kubernetes://istio-system/shop-cert"].tls_certificate().private_key().inline_bytes() == "KEY\n");
}

TEST_CASE("Secrets outside the gateway's namespace need a ReferenceGrant; sidecars and unknown names get none") {
  Fixture f;
  auto gw = testing::routerProxy("ingress-1", "istio-system");
  auto out = f.generate(gw, {"kubernetes://apps/other-ns", "kubernetes-gateway://apps/other-ns",
                             "kubernetes-gateway://certs/granted", "kubernetes://missing", "default",
                             "kubernetes://shop-cert-cacert-cacert"});
  REQUIRE(out.size() == 1);
  CHECK(out["kubernetes-gateway://certs/granted"].tls_certificate().certificate_chain().inline_bytes() == "GR\n");
  CHECK(f.generate(testing::sidecarProxy("orders-1", "istio-system"), {"kubernetes://shop-cert"}).empty());
  // meshd's ADS is plaintext: a gateway connected from another host gets no credentials.
  CHECK(f.generate(gw, {"kubernetes://shop-cert"}, false).empty());
  // A wildcard request gets nothing: Envoy names the secrets it wants.
  model::Proxy proxy = gw;
  proxy.localPeer = true;
  model::SidecarScope scope = model::SidecarScope::compute(*f.snapshot, proxy);
  CHECK(SecretGenerator().generate(ProxyView{*f.snapshot, proxy, scope, nullptr}, ResourceNames{}).empty());
}

TEST_CASE("Secret data must be valid base64; stringData wins over data") {
  auto snapshot = testing::snapshotFromYaml(R"(apiVersion: v1
kind: Secret
metadata: {name: bad, namespace: gw}
data: {tls.crt: "not base64!", tls.key: S0VZCg==}
---
apiVersion: v1
kind: Secret
metadata: {name: both, namespace: gw}
data: {tls.crt: Q0VSVAo=, tls.key: S0VZCg==}
stringData: {tls.crt: "PLAIN\n"}
)");
  const core::Resource* bad = snapshot->ofKind("", "Secret")[0];
  const core::Resource* both = snapshot->ofKind("", "Secret")[1];
  CHECK(bad->name() == "bad");
  CHECK_FALSE(tlsMaterialOf(*bad).has_value());
  auto material = tlsMaterialOf(*both);
  REQUIRE(material.has_value());
  CHECK(material->certificate == "PLAIN\n");
  CHECK(material->key == "KEY\n");
}

}  // namespace mesh::xds::sds_test
