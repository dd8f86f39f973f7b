#include "controlplane/xds/secret_generator.h"

#include <array>

#include "controlplane/model/node_values.h"

namespace mesh::xds {
namespace {

using envoy::extensions::transport_sockets::tls::v3::Secret;
using model::text;

constexpr std::string_view kKubernetesPrefix = "kubernetes://";
constexpr std::string_view kGatewayPrefix = "kubernetes-gateway://";
constexpr std::string_view kCaSuffix = "-cacert";
constexpr size_t kMaxSecretValue = 1 << 20;

// Standard base64 with padding; whitespace (line breaks) skipped. nullopt on anything else.
std::optional<std::string> decodeBase64(std::string_view in) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  std::string out;
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  size_t symbols = 0;
  for (char ch : in) {
    if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
    ++symbols;
    if (ch == '=') {
      ++pad;
      continue;
    }
    int v = table[static_cast<unsigned char>(ch)];
    if (v < 0 || pad > 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (symbols % 4 != 0 || pad > 2) return std::nullopt;
  return out;
}

// One key of the Secret: stringData wins over data, as the API server merges them.
std::string value(const core::Resource& secret, std::string_view key) {
  std::string_view plain = text(secret.root().get("stringData"), key);
  if (!plain.empty()) return std::string(plain.substr(0, kMaxSecretValue));
  std::string_view encoded = text(secret.root().get("data"), key);
  if (encoded.empty() || encoded.size() > kMaxSecretValue * 4 / 3 + 4) return {};
  return decodeBase64(encoded).value_or(std::string());
}

const core::Resource* findSecret(const model::ConfigSnapshot& snapshot, std::string_view ns, std::string_view name) {
  for (const core::Resource* r : snapshot.ofKind("", "Secret"))
    if (r->namespace_() == ns && r->name() == name) return r;
  return nullptr;
}

// Whether a ReferenceGrant in `secretNs` lets Gateways of `gatewayNs` read Secret `name`.
bool granted(const model::ConfigSnapshot& snapshot, std::string_view gatewayNs, std::string_view secretNs,
             std::string_view name) {
  for (const core::Resource* grant : snapshot.ofKind("gateway.networking.k8s.io", "ReferenceGrant")) {
    if (grant->namespace_() != secretNs) continue;
    bool from = false, to = false;
    for (const core::Node* f : model::items(grant->spec() ? grant->spec()->get("from") : nullptr))
      from = from || (text(f, "group") == "gateway.networking.k8s.io" && text(f, "kind") == "Gateway" &&
                      text(f, "namespace") == gatewayNs);
    for (const core::Node* t : model::items(grant->spec() ? grant->spec()->get("to") : nullptr))
      to = to || (text(t, "group").empty() && text(t, "kind") == "Secret" &&
                  (text(t, "name").empty() || text(t, "name") == name));
    if (from && to) return true;
  }
  return false;
}

struct SecretRef {
  std::string ns;
  std::string name;
  bool caOnly = false;
};

// The Kubernetes Secret a resource name points at, if this proxy may read it.
std::optional<SecretRef> resolve(const ProxyView& view, std::string_view resource) {
  SecretRef ref;
  std::string_view rest;
  bool crossNamespaceGrant = false;
  if (resource.starts_with(kKubernetesPrefix)) {
    rest = resource.substr(kKubernetesPrefix.size());
  } else if (resource.starts_with(kGatewayPrefix)) {
    rest = resource.substr(kGatewayPrefix.size());
    crossNamespaceGrant = true;
  } else {
    return std::nullopt;
  }
  if (rest.ends_with(kCaSuffix)) {
    ref.caOnly = true;
    rest.remove_suffix(kCaSuffix.size());
  }
  auto slash = rest.find('/');
  ref.ns = slash == std::string_view::npos ? view.proxy.namespace_ : std::string(rest.substr(0, slash));
  ref.name = std::string(slash == std::string_view::npos ? rest : rest.substr(slash + 1));
  if (ref.name.empty() || ref.name.find('/') != std::string::npos) return std::nullopt;
  // Istio's authorization: a gateway reads the Secrets of its own namespace, others only
  // through a ReferenceGrant (Gateway API).
  if (ref.ns != view.proxy.namespace_ &&
      !(crossNamespaceGrant && granted(view.snapshot, view.proxy.namespace_, ref.ns, ref.name)))
    return std::nullopt;
  return ref;
}

}  // namespace

std::optional<KubeTlsMaterial> tlsMaterialOf(const core::Resource& secret) {
  KubeTlsMaterial m;
  // Istio's ExtractCertInfo: the generic keys first, then kubernetes.io/tls's.
  if (std::string cert = value(secret, "cert"), key = value(secret, "key"); !cert.empty() && !key.empty()) {
    m.certificate = std::move(cert);
    m.key = std::move(key);
  } else if (cert = value(secret, "tls.crt"), key = value(secret, "tls.key"); !cert.empty() && !key.empty()) {
    m.certificate = std::move(cert);
    m.key = std::move(key);
  }
  m.ca = value(secret, "cacert");
  if (m.ca.empty()) m.ca = value(secret, "ca.crt");
  if (m.certificate.empty() && m.ca.empty()) return std::nullopt;
  return m;
}

std::optional<Secret> buildGatewaySecret(const ProxyView& view, std::string_view name) {
  if (view.proxy.type != model::ProxyType::Router || !view.proxy.localPeer) return std::nullopt;
  auto ref = resolve(view, name);
  if (!ref) return std::nullopt;
  Secret out;
  out.set_name(std::string(name));
  if (ref->caOnly) {
    // Istio's GetCaCert: a Secret "NAME-cacert" of its own, else NAME's CA.
    const core::Resource* secret = findSecret(view.snapshot, ref->ns, ref->name + std::string(kCaSuffix));
    if (!secret) secret = findSecret(view.snapshot, ref->ns, ref->name);
    auto material = secret ? tlsMaterialOf(*secret) : std::nullopt;
    if (!material || material->ca.empty()) return std::nullopt;
    out.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes(std::move(material->ca));
    return out;
  }
  const core::Resource* secret = findSecret(view.snapshot, ref->ns, ref->name);
  auto material = secret ? tlsMaterialOf(*secret) : std::nullopt;
  if (!material || material->certificate.empty()) return std::nullopt;
  auto* cert = out.mutable_tls_certificate();
  cert->mutable_certificate_chain()->set_inline_bytes(std::move(material->certificate));
  cert->mutable_private_key()->set_inline_bytes(std::move(material->key));
  return out;
}

XdsResources SecretGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  if (names.wildcard || view.proxy.type != model::ProxyType::Router || !view.proxy.localPeer) return out;
  for (const std::string& name : names.list())
    if (auto secret = buildGatewaySecret(view, name)) out.push_back(XdsResource::of(name, *secret));
  normalize(out);
  return out;
}

}  // namespace mesh::xds
