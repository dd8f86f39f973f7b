#include "core/kinds.h"

#include <algorithm>
#include <cctype>

#include "core/validation/validators.h"

namespace mesh::core {
namespace {

constexpr std::string_view kNetworking = "networking.istio.io";
constexpr std::string_view kSecurity = "security.istio.io";
constexpr std::string_view kTelemetry = "telemetry.istio.io";
constexpr std::string_view kExtensions = "extensions.istio.io";
constexpr std::string_view kGatewayApi = "gateway.networking.k8s.io";

const std::vector<std::string_view> kIstioVersions = {"v1", "v1beta1", "v1alpha3"};
const std::vector<std::string_view> kIstioSecurityVersions = {"v1", "v1beta1"};
const std::vector<std::string_view> kTelemetryVersions = {"v1", "v1alpha1"};
const std::vector<std::string_view> kGatewayVersions = {"v1", "v1beta1", "v1alpha2"};

const std::vector<KindInfo>& table() {
  static const std::vector<KindInfo> kinds = {
      // networking.istio.io
      {kNetworking, "VirtualService", "virtualservices", "vs", kIstioVersions, true, validateVirtualService},
      {kNetworking, "DestinationRule", "destinationrules", "dr", kIstioVersions, true, validateDestinationRule},
      {kNetworking, "Gateway", "gateways", "gw", kIstioVersions, true, validateGateway},
      {kNetworking, "ServiceEntry", "serviceentries", "se", kIstioVersions, true, validateServiceEntry},
      {kNetworking, "Sidecar", "sidecars", "", kIstioVersions, true, validateSidecar},
      {kNetworking, "WorkloadEntry", "workloadentries", "we", kIstioVersions, true, validateWorkloadEntry},
      {kNetworking, "WorkloadGroup", "workloadgroups", "wg", kIstioVersions, true, validateWorkloadGroup},
      {kNetworking, "EnvoyFilter", "envoyfilters", "", {"v1alpha3"}, true, validateEnvoyFilter},
      {kNetworking, "ProxyConfig", "proxyconfigs", "", {"v1beta1"}, true, nullptr},
      // security.istio.io
      {kSecurity, "PeerAuthentication", "peerauthentications", "pa", kIstioSecurityVersions, true, validatePeerAuthentication},
      {kSecurity, "AuthorizationPolicy", "authorizationpolicies", "ap", kIstioSecurityVersions, true, validateAuthorizationPolicy},
      {kSecurity, "RequestAuthentication", "requestauthentications", "ra", kIstioSecurityVersions, true, validateRequestAuthentication},
      // extensions.istio.io
      {kExtensions, "WasmPlugin", "wasmplugins", "", {"v1alpha1"}, true, nullptr},
      // telemetry.istio.io
      {kTelemetry, "Telemetry", "telemetries", "telemetry", kTelemetryVersions, true, validateTelemetry},
      // Kubernetes Gateway API
      {kGatewayApi, "GatewayClass", "gatewayclasses", "gc", kGatewayVersions, false, nullptr},
      {kGatewayApi, "Gateway", "gateways", "gtw", kGatewayVersions, true, validateKubeGateway},
      {kGatewayApi, "HTTPRoute", "httproutes", "", kGatewayVersions, true, validateHttpRoute},
      {kGatewayApi, "GRPCRoute", "grpcroutes", "", {"v1", "v1alpha2"}, true, nullptr},
      {kGatewayApi, "TCPRoute", "tcproutes", "", {"v1alpha2"}, true, nullptr},
      {kGatewayApi, "TLSRoute", "tlsroutes", "", {"v1alpha2"}, true, nullptr},
      {kGatewayApi, "ReferenceGrant", "referencegrants", "refgrant", {"v1beta1", "v1alpha2"}, true, nullptr},
      // core Kubernetes
      {"", "Namespace", "namespaces", "ns", {"v1"}, false, nullptr},
      {"", "Service", "services", "svc", {"v1"}, true, validateService},
      {"", "Pod", "pods", "po", {"v1"}, true, validatePod},
      {"", "Node", "nodes", "no", {"v1"}, false, nullptr},
      {"", "ConfigMap", "configmaps", "cm", {"v1"}, true, nullptr},
      {"", "Secret", "secrets", "", {"v1"}, true, nullptr},
      {"", "ServiceAccount", "serviceaccounts", "sa", {"v1"}, true, nullptr},
      {"", "Endpoints", "endpoints", "ep", {"v1"}, true, nullptr},
      {"discovery.k8s.io", "EndpointSlice", "endpointslices", "", {"v1"}, true, validateEndpointSlice},
      {"apps", "Deployment", "deployments", "deploy", {"v1"}, true, validateDeployment},
      {"apps", "StatefulSet", "statefulsets", "sts", {"v1"}, true, nullptr},
      {"apps", "DaemonSet", "daemonsets", "ds", {"v1"}, true, nullptr},
      {"apps", "ReplicaSet", "replicasets", "rs", {"v1"}, true, nullptr},
      {"admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "", {"v1"}, false, nullptr},
      {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "", {"v1"}, false, nullptr},
      {"apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", "crd", {"v1"}, false, nullptr},
      {"rbac.authorization.k8s.io", "ClusterRole", "clusterroles", "", {"v1"}, false, nullptr},
      {"rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", "", {"v1"}, false, nullptr},
      {"rbac.authorization.k8s.io", "Role", "roles", "", {"v1"}, true, nullptr},
      {"rbac.authorization.k8s.io", "RoleBinding", "rolebindings", "", {"v1"}, true, nullptr},
      {"policy", "PodDisruptionBudget", "poddisruptionbudgets", "pdb", {"v1"}, true, nullptr},
      {"autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "hpa", {"v2", "v1"}, true, nullptr},
  };
  return kinds;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool KindInfo::servesVersion(std::string_view v) const {
  return std::find(versions.begin(), versions.end(), v) != versions.end();
}

std::span<const KindInfo> allKinds() { return table(); }

const KindInfo* findKind(std::string_view group, std::string_view kind) {
  for (const auto& k : table())
    if (k.group == group && k.kind == kind) return &k;
  return nullptr;
}

const KindInfo* findKindByName(std::string_view name) {
  for (const auto& k : table()) {
    if (equalsIgnoreCase(k.kind, name) || equalsIgnoreCase(k.plural, name)) return &k;
    std::string_view shorts = k.shortNames;
    while (!shorts.empty()) {
      size_t comma = shorts.find(',');
      if (equalsIgnoreCase(shorts.substr(0, comma), name)) return &k;
      shorts = comma == std::string_view::npos ? std::string_view() : shorts.substr(comma + 1);
    }
  }
  return nullptr;
}

std::pair<std::string_view, std::string_view> splitApiVersion(std::string_view apiVersion) {
  size_t slash = apiVersion.rfind('/');
  if (slash == std::string_view::npos) return {"", apiVersion};
  return {apiVersion.substr(0, slash), apiVersion.substr(slash + 1)};
}

}  // namespace mesh::core
