// IngressGateways / EgressGateways: one meshproxy Deployment per enabled gateway, in router
// mode, with Istio's names, labels (app, istio) and ports so Gateway resources written for
// Istio select it. The gateway gets its config and certificates from meshd over xDS, so its
// ServiceAccount has no RBAC and no API token is mounted.
#include <fmt/format.h>

#include <algorithm>

#include "install/render.h"

namespace mesh::install {
namespace {

constexpr int kStatusPort = 15021;
constexpr int kPrometheusPort = 15090;

Object servicePort(std::string_view name, int port, int target) {
  return Object{{"name", std::string(name)}, {"port", port}, {"protocol", "TCP"}, {"targetPort", target}};
}

// Istio's gateway ports: the status port first (cloud load balancers health-check the first
// port), then HTTP and HTTPS on unprivileged container ports.
Object defaultPorts(bool ingress) {
  Object ports = Object::array();
  if (ingress) ports.push_back(servicePort("status-port", kStatusPort, kStatusPort));
  ports.push_back(servicePort("http2", 80, 8080));
  ports.push_back(servicePort("https", 443, 8443));
  return ports;
}

Object servicePorts(const GatewayPlan& g) {
  const nlohmann::json* ports = findAt(g.k8s, {"service", "ports"});
  if (!ports || !ports->is_array() || ports->empty()) return defaultPorts(g.component == kIngressGateways);
  Object out = Object::array();
  for (const auto& p : *ports) {
    Object port(p);
    if (!port.contains("protocol")) port["protocol"] = "TCP";
    if (!port.contains("targetPort")) port["targetPort"] = port["port"];
    out.push_back(std::move(port));
  }
  return out;
}

Object containerPorts(const Object& servicePorts) {
  std::vector<int64_t> numbers;
  for (const auto& p : servicePorts)
    if (p["targetPort"].is_number_integer()) numbers.push_back(p["targetPort"].get<int64_t>());
  Object out =
      Object::array({Object{{"containerPort", kStatusPort}, {"name", "status-port"}, {"protocol", "TCP"}},
                     Object{{"containerPort", kPrometheusPort}, {"name", "http-envoy-prom"}, {"protocol", "TCP"}}});
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  for (int64_t n : numbers)
    if (n != kStatusPort && n != kPrometheusPort) out.push_back(Object{{"containerPort", n}, {"protocol", "TCP"}});
  return out;
}

}  // namespace

std::vector<Object> renderGateway(const InstallPlan& plan, const GatewayPlan& g) {
  std::vector<Object> out;
  std::string account = g.name + "-service-account";
  Object labels(g.labels);
  labels["istio.io/rev"] = plan.revision;
  Object selector{{"app", g.labels.value("app", "")}, {"istio", g.labels.value("istio", "")}};

  Object sa = plan.object("v1", "ServiceAccount", account, g.ns, g.component, Object(g.labels));
  sa["automountServiceAccountToken"] = false;
  out.push_back(std::move(sa));

  Object ports = servicePorts(g);
  Workload w;
  w.name = g.name;
  w.ns = g.ns;
  w.component = g.component;
  w.labels = labels;
  w.selector = selector;
  w.podAnnotations = Object{{"prometheus.io/path", "/stats/prometheus"},
                            {"prometheus.io/port", std::to_string(kPrometheusPort)},
                            {"prometheus.io/scrape", "true"}};
  w.serviceAccount = account;
  w.mountToken = false;
  w.scaling = g.scaling;
  w.k8s = g.k8s;
  Object container{{"name", "istio-proxy"}, {"image", g.image}};
  container["args"] = Object::array({
      "--type=router",
      "--xds-address=" + plan.xdsAddress,
      fmt::format("--id=router~$(POD_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.{}", plan.clusterDomain),
      "--admin-address=127.0.0.1:15000",
  });
  container["ports"] = containerPorts(ports);
  container["env"] =
      Object::array({fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace"),
                     fieldEnv("POD_IP", "status.podIP")});
  // Istio's gateway probe: ready once the first config from meshd is applied.
  container["readinessProbe"] =
      Object{{"failureThreshold", 30},
             {"httpGet", Object{{"path", "/healthz/ready"}, {"port", kStatusPort}, {"scheme", "HTTP"}}},
             {"initialDelaySeconds", 1},
             {"periodSeconds", 2},
             {"successThreshold", 1},
             {"timeoutSeconds", 1}};
  container["securityContext"] = restrictedContainerSecurity();
  w.container = std::move(container);
  out.push_back(deployment(plan, w));

  Object svc = plan.object("v1", "Service", g.name, g.ns, g.component, Object(g.labels));
  if (const auto* a = findAt(g.k8s, {"serviceAnnotations"}); a && a->is_object() && !a->empty())
    svc["metadata"]["annotations"] = Object(*a);
  Object spec = Object::object();
  if (const auto* v = findAt(g.k8s, {"service", "externalTrafficPolicy"})) spec["externalTrafficPolicy"] = Object(*v);
  if (const auto* v = findAt(g.k8s, {"service", "loadBalancerIP"})) spec["loadBalancerIP"] = Object(*v);
  if (const auto* v = findAt(g.k8s, {"service", "loadBalancerSourceRanges"}))
    spec["loadBalancerSourceRanges"] = Object(*v);
  spec["ports"] = std::move(ports);
  spec["selector"] = selector;
  spec["type"] = g.serviceType;
  svc["spec"] = std::move(spec);
  out.push_back(std::move(svc));
  if (g.scaling.pdb) out.push_back(podDisruptionBudget(plan, w));
  if (g.scaling.autoscale) out.push_back(horizontalPodAutoscaler(plan, w));
  return out;
}

}  // namespace mesh::install
