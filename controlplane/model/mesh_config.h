// MeshConfig as meshd honours it: Istio's mesh.v1alpha1.MeshConfig read from istiod's
// --meshConfig file or the `mesh` key of the `istio` ConfigMap in the root namespace. Parsed and
// checked once (as Istio's ValidateMeshConfig does), with errors naming file, line and field;
// the result is immutable and shared read-only by the push loop and every generator thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/resource.h"
#include "core/result.h"
#include "core/yaml/node.h"

namespace mesh::model {

// MeshConfig.ExtensionProvider.envoyExtAuthzHttp / envoyExtAuthzGrpc (Istio's
// EnvoyExternalAuthorizationHttpProvider and ...GrpcProvider), fields as the API names them.
struct ExtAuthzProvider {
  bool http = false;     // envoyExtAuthzHttp; else envoyExtAuthzGrpc
  std::string service;   // "[<namespace>/]<hostname>"
  uint32_t port = 0;     // 1..65535
  std::optional<int64_t> timeoutNanos;  // unset: Istio's 600s
  bool failOpen = false;
  std::optional<uint32_t> statusOnError;  // an HTTP status Envoy's StatusCode enum names
  std::string pathPrefix;                 // HTTP only; "" or starting with '/'
  // HTTP only. Header names; "*" at either end makes a suffix or prefix match.
  std::vector<std::string> includeRequestHeadersInCheck;  // else the deprecated includeHeadersInCheck
  std::vector<std::pair<std::string, std::string>> includeAdditionalHeadersInCheck;  // sorted by name
  std::vector<std::string> headersToUpstreamOnAllow;
  std::vector<std::string> headersToDownstreamOnDeny;
  std::vector<std::string> headersToDownstreamOnAllow;
  struct RequestBody {
    uint32_t maxRequestBytes = 0;
    bool allowPartialMessage = false;
    bool packAsBytes = false;
  };
  std::optional<RequestBody> includeRequestBodyInCheck;
};

struct ExtensionProvider {
  std::string name;
  std::optional<ExtAuthzProvider> extAuthz;  // unset: a kind meshd does not build (tracing, logging...)
};

struct MeshConfig {
  std::string rootNamespace = "istio-system";
  std::string trustDomain = "cluster.local";
  bool rootNamespaceSet = false;  // whether the document names them (else meshd's flags apply)
  bool trustDomainSet = false;
  std::vector<ExtensionProvider> extensionProviders;  // in document order, names unique
  // The mesh-wide localityLbSetting (a DestinationRule's form), nullptr when unset; lives in `tree`.
  const core::Node* localityLbSetting = nullptr;
  core::TreePtr tree;
  std::string source;  // where it came from, for messages: a path, or "ConfigMap ns/name" with its file

  const ExtensionProvider* provider(std::string_view name) const;
};

// Istio's defaults (no providers, locality LB on without rules).
std::shared_ptr<const MeshConfig> defaultMeshConfig();

// One YAML MeshConfig document. `path` names it in messages; `firstLine` is the line of `path`
// on which `yaml` starts (for a ConfigMap's block scalar), `field` prefixes field paths ("data.mesh").
Result<std::shared_ptr<const MeshConfig>> parseMeshConfig(std::string path, std::string_view yaml,
                                                          uint32_t firstLine = 1, std::string_view field = "");
// istiod's --meshConfig file: its text (NotFound/Io when it cannot be read, InvalidInput when
// over the YAML size limit), then parsed.
Result<std::string> readMeshConfigFile(const std::string& path);
Result<std::shared_ptr<const MeshConfig>> loadMeshConfigFile(const std::string& path);
// The `mesh` key of a ConfigMap (Istio's `istio` ConfigMap); a ConfigMap without it means the defaults.
Result<std::shared_ptr<const MeshConfig>> meshConfigFromConfigMap(const core::Resource& configMap);

// Whether Envoy's envoy.type.v3.StatusCode names this HTTP status (Istio's statusOnError check).
bool isEnvoyStatusCode(uint32_t code);

}  // namespace mesh::model
