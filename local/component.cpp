#include "local/component.h"

#include <fmt/format.h>

#include <map>

#include "install/install_plan.h"

namespace mesh::local {
namespace {

constexpr std::string_view kLoopback = "127.0.0.1";

// values.local.<key> as a port, or the default; InvalidInput naming the field otherwise.
Result<NamedPort> portAt(const nlohmann::json& local, std::initializer_list<std::string_view> keys,
                         std::string name, std::string field, int fallback) {
  const nlohmann::json* v = install::findAt(local, keys);
  int64_t port = fallback;
  if (v) {
    if (!v->is_number_integer())
      return fail(ErrorCode::InvalidInput, fmt::format("spec.{}: {} is not a port number", field, v->dump()));
    port = v->get<int64_t>();
  }
  if (port < 1 || port > 65535)
    return fail(ErrorCode::InvalidInput, fmt::format("spec.{}: {} is not a port number (1-65535)", field, port),
                "meshctl must know the port to check the component, so 0 (any port) is not accepted either");
  return NamedPort{std::move(name), static_cast<uint16_t>(port), std::move(field)};
}

std::string address(uint16_t port) { return fmt::format("{}:{}", kLoopback, port); }

}  // namespace

uint16_t Component::port(std::string_view portName) const {
  for (const auto& p : ports)
    if (p.name == portName) return p.port;
  return 0;
}

Result<std::vector<Component>> planComponents(const nlohmann::json& iop, const MeshHome& home,
                                              const Environment& env, const ComponentInputs& inputs) {
  auto plan = install::planInstall(iop);
  if (!plan) return Failure(plan.error());
  const nlohmann::json* spec = install::findAt(iop, {"spec"});
  const nlohmann::json* localValues = spec ? install::findAt(*spec, {"values", "local"}) : nullptr;
  const nlohmann::json local = localValues ? *localValues : nlohmann::json::object();

  auto xds = portAt(local, {"xdsPort"}, "xds", "values.local.xdsPort", 15010);
  if (!xds) return Failure(xds.error());
  auto ca = portAt(local, {"caPort"}, "ca", "values.local.caPort", 15012);
  if (!ca) return Failure(ca.error());
  std::vector<Component> out;

  if (plan->meshd) {
    auto monitoring = portAt(local, {"monitoringPort"}, "monitoring", "values.local.monitoringPort", 15014);
    if (!monitoring) return Failure(monitoring.error());
    auto debug = portAt(local, {"debugPort"}, "debug", "values.local.debugPort", 15015);
    if (!debug) return Failure(debug.error());
    auto binary = findBinary(inputs.meshd, env);
    if (!binary) return Failure(binary.error());
    std::string rootNamespace = plan->meshConfig.value("rootNamespace", plan->ns);
    Component c;
    c.name = plan->meshd->name;
    c.role = "control plane";
    c.binary = *binary;
    // meshd's own flags (controlplane/main.cpp), all on loopback: local mode is one machine.
    c.argv = {binary->string(),
              "--config-dir", home.configDir().string(),
              "--xds-address", address(xds->port),
              "--monitoring-address", address(monitoring->port),
              "--debug-address", address(debug->port),
              "--log-level", plan->meshd->logLevel,
              "--root-namespace", rootNamespace,
              "--domain", plan->clusterDomain,
              "--ca",
              "--ca-dir", home.caDir().string(),
              "--ca-address", address(ca->port)};
    c.readyUrl = fmt::format("http://{}/ready", address(monitoring->port));
    c.ports = {*xds, *monitoring, *debug, *ca};
    out.push_back(std::move(c));
  }

  if (!plan->gateways.empty()) {
    auto binary = findBinary(inputs.meshproxy, env);
    if (!binary)
      return fail(binary.error().code, binary.error().message,
                  fmt::format("{}; or leave the gateways out: -p minimal, or --set "
                              "components.ingressGateways[0].enabled=false",
                              binary.error().hint));
    std::string unsupported = inputs.probe ? inputs.probe(*binary) : std::string();
    // With a remote control plane the gateways dial it; otherwise the local meshd.
    const nlohmann::json* remotePilot = install::findAt(iop, {"spec", "values", "global", "remotePilotAddress"});
    bool remote = remotePilot && remotePilot->is_string() && !remotePilot->get<std::string>().empty();
    std::string xdsAddress = remote ? plan->xdsAddress : address(xds->port);
    for (size_t i = 0; i < plan->gateways.size(); ++i) {
      const install::GatewayPlan& g = plan->gateways[i];
      int base = 15000 + 100 * static_cast<int>(i + 1);
      std::string prefix = fmt::format("values.local.gateways.{}", g.name);
      auto admin = portAt(local, {"gateways", g.name, "adminPort"}, "admin", prefix + ".adminPort", base);
      if (!admin) return Failure(admin.error());
      auto status = portAt(local, {"gateways", g.name, "statusPort"}, "status", prefix + ".statusPort", base + 21);
      if (!status) return Failure(status.error());
      // Istio's Prometheus port 15090 moved like the others, so two gateways never share it.
      auto prometheus =
          portAt(local, {"gateways", g.name, "prometheusPort"}, "prometheus", prefix + ".prometheusPort", base + 90);
      if (!prometheus) return Failure(prometheus.error());
      Component c;
      c.name = g.name;
      c.role = g.component == install::kIngressGateways ? "ingress gateway" : "egress gateway";
      c.binary = *binary;
      // The gateway as the Kubernetes manifest runs it (install/render_gateway.cpp), with the
      // pod's address and name replaced by loopback and the gateway's name.
      // Its labels are what Gateway selectors (istio: ingressgateway) match.
      std::string labels;
      for (const auto& [key, value] : g.labels.items())
        if (value.is_string()) labels += fmt::format("{}{}={}", labels.empty() ? "" : ",", key, value.get<std::string>());
      c.argv = {binary->string(),
                "--type", "router",
                "--xds-address", xdsAddress,
                "--id", fmt::format("router~{}~{}.{}~{}.svc.{}", kLoopback, g.name, g.ns, g.ns, plan->clusterDomain),
                "--namespace", g.ns,
                "--labels", labels,
                "--admin-address", address(admin->port),
                "--status-address", address(status->port),
                "--prometheus-address", address(prometheus->port)};
      // The local meshd's CA issues the gateway's certificate: verified by the root it keeps
      // in the mesh home, authenticated by its token (a remote control plane's are not known).
      if (!remote && plan->meshd)
        c.argv.insert(c.argv.end(), {"--ca-address", address(ca->port),
                                     "--ca-root-cert", (home.caDir() / "ca-cert.pem").string(),
                                     "--ca-token-file", (home.caDir() / "token").string()});
      c.readyUrl = fmt::format("http://{}/healthz/ready", address(status->port));
      c.ports = {*admin, *status, *prometheus};
      c.skipped = unsupported;
      out.push_back(std::move(c));
    }
  }

  // Two components on one port would fail at start-up with a less helpful message.
  std::map<uint16_t, std::string> taken;
  for (const Component& c : out) {
    for (const NamedPort& p : c.ports) {
      auto [it, fresh] = taken.emplace(p.port, p.field);
      if (!fresh)
        return fail(ErrorCode::InvalidInput,
                    fmt::format("spec.{}: port {} is also {}", p.field, p.port, it->second),
                    "give every local component its own port");
    }
  }
  return out;
}

}  // namespace mesh::local
