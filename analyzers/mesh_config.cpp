#include "analyzers/mesh_config.h"

#include <fmt/format.h>

#include "core/yaml/convert.h"

namespace mesh::analysis {
namespace {

Result<nlohmann::json> loadSingleDocument(const std::string& path, std::string_view what) {
  core::ParsedFile parsed;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return fail(ErrorCode::Io, fmt::format("{}: cannot open {} file", path, what));
    std::string content;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
    std::fclose(f);
    parsed = core::parseYaml(path, content);
  }
  if (parsed.error) return fail(ErrorCode::InvalidInput, parsed.error->format());
  if (parsed.documents.empty()) return nlohmann::json::object();
  const core::Node* doc = parsed.documents.front();
  if (!doc->isMapping())
    return fail(ErrorCode::InvalidInput, fmt::format("{}:{}:{}: {} must be a map", path, doc->mark().line,
                                                     doc->mark().column, what));
  return core::toJson(*doc);
}

}  // namespace

nlohmann::json defaultMeshConfig() {
  // The fields analyzers read, with the values Istio's mesh.DefaultMeshConfig() gives them.
  return {
      {"rootNamespace", "istio-system"},
      {"ingressControllerMode", "STRICT"},
      {"ingressService", "istio-ingressgateway"},
      {"ingressSelector", "ingressgateway"},
      {"ingressClass", "istio"},
      {"trustDomain", "cluster.local"},
      {"enableAutoMtls", true},
      {"outboundTrafficPolicy", {{"mode", "ALLOW_ANY"}}},
      {"defaultConfig",
       {{"discoveryAddress", "istiod.istio-system.svc:15012"},
        {"proxyMetadata", nlohmann::json::object()},
        {"image", {{"imageType", "default"}}}}},
      {"extensionProviders", nlohmann::json::array()},
      {"defaultProviders", nlohmann::json::object()},
  };
}

Result<nlohmann::json> loadMeshConfig(const std::string& path) {
  auto user = loadSingleDocument(path, "mesh config");
  if (!user) return user;
  nlohmann::json merged = defaultMeshConfig();
  merged.merge_patch(*user);
  return merged;
}

Result<nlohmann::json> loadMeshNetworks(const std::string& path) {
  return loadSingleDocument(path, "mesh networks");
}

std::vector<core::Resource> meshResources(const nlohmann::json& meshConfig, const nlohmann::json& meshNetworks) {
  std::string ns = meshConfig.value("rootNamespace", std::string("istio-system"));
  auto object = [&](std::string_view kind, std::string_view name, const nlohmann::json& spec) {
    return nlohmann::json{{"apiVersion", "meshctl.internal/v1"},
                          {"kind", kind},
                          {"metadata", {{"name", name}, {"namespace", ns}}},
                          {"spec", spec}};
  };
  // JSON is YAML: the loader reads the objects like any file's, without a file name.
  std::string text = object("MeshConfig", "meshconfig", meshConfig).dump() + "\n---\n" +
                     object("MeshNetworks", "meshnetworks", meshNetworks).dump() + "\n";
  core::LoadOptions options;
  return core::loadBuffer("", text, options).resources;
}

std::vector<core::Resource> defaultIngressResources(const nlohmann::json& meshConfig) {
  if (meshConfig.value("ingressControllerMode", std::string("STRICT")) == "OFF") return {};
  std::string ns = meshConfig.value("rootNamespace", std::string("istio-system"));
  std::string service = meshConfig.value("ingressService", std::string("istio-ingressgateway"));
  std::string yaml = fmt::format(R"(apiVersion: v1
kind: Pod
metadata:
  name: istio-ingressgateway-dummypod
  namespace: {0}
  labels:
    istio: ingressgateway
spec:
  containers:
  - name: istio-proxy
---
apiVersion: v1
kind: Service
metadata:
  name: {1}
  namespace: {0}
spec:
  selector:
    istio: ingressgateway
  ports:
  - {{name: http2, port: 80, protocol: TCP}}
  - {{name: https, port: 443, protocol: TCP}}
  - {{name: tcp, port: 31400, protocol: TCP}}
  - {{name: tls, port: 15443, protocol: TCP}}
)",
                                 ns, service);
  core::LoadOptions options;
  return core::loadBuffer("", yaml, options).resources;
}

}  // namespace mesh::analysis
