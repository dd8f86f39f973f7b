// A component of the local mesh: one program meshctl runs on this machine (meshd, a gateway's
// meshproxy), with how to start it (its command line), how to check it (a URL that answers 200
// when it is ready) and the loopback ports it takes. planComponents() derives them from the
// merged IstioOperator the way `manifest generate` derives Deployments, so one profile means
// the same components in both modes. Plain data; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "local/binary_lookup.h"
#include "local/environment.h"
#include "local/mesh_home.h"

namespace mesh::local {

struct NamedPort {
  std::string name;   // xds, monitoring, debug, admin, status
  uint16_t port = 0;
  std::string field;  // the --set path that changes it: values.local.xdsPort
};

struct Component {
  std::string name;  // meshd (meshd-<revision>), istio-ingressgateway, ...
  std::string role;  // "control plane", "ingress gateway", "egress gateway"
  std::filesystem::path binary;
  std::vector<std::string> argv;  // argv[0] is `binary`
  std::string readyUrl;           // GET answers 200 once it serves
  std::vector<NamedPort> ports;
  std::string skipped;  // why it cannot run on this machine; "" when it can

  uint16_t port(std::string_view portName) const;  // 0 when it has none by that name
};

// Whether a meshproxy binary can run as a gateway ("" yes, else why not):
// gatewayUnsupportedReason() in production, a stand-in in tests.
using GatewayProbe = std::function<std::string(const std::filesystem::path& meshproxy)>;

struct ComponentInputs {
  BinarySpec meshd = meshdSpec("");
  BinarySpec meshproxy = meshproxySpec("");
  GatewayProbe probe;
};

// The components of an install, meshd first, then the gateways in the order the profile lists
// them. Ports come from values.local (defaults: xDS 15010, monitoring 15014, debug 15015; the
// n-th gateway admin 15000+100n, status 15021+100n); each must be a port number and all must
// differ. Fails when a program a component needs cannot be found.
Result<std::vector<Component>> planComponents(const nlohmann::json& iop, const MeshHome& home,
                                              const Environment& env, const ComponentInputs& inputs);

}  // namespace mesh::local
