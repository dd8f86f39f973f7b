#include "analyzers/schema/mesh_validation.h"

#include <arpa/inet.h>

#include <set>

#include <fmt/format.h>

namespace mesh::analysis {
namespace {

bool validPort(const nlohmann::json& v) { return v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 65535; }

bool validCidr(const std::string& cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = cidr.substr(0, slash);
  std::string bits = cidr.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) return false;
  unsigned char buf[16];
  int prefix = std::stoi(bits);
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return prefix <= 32;
  return inet_pton(AF_INET6, ip.c_str(), buf) == 1 && prefix <= 128;
}

void checkEnum(const nlohmann::json& obj, const char* key, std::set<std::string> allowed, std::vector<std::string>& out,
               const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) return;
  const auto& v = obj[key];
  if (!v.is_string() || !allowed.contains(v.get<std::string>()))
    out.push_back(fmt::format("{}{}: unsupported value {}", path, key, v.dump()));
}

}  // namespace

std::vector<std::string> validateMeshConfig(const nlohmann::json& mc) {
  std::vector<std::string> out;
  if (!mc.is_object()) return {"mesh config must be a map"};
  if (mc.contains("proxyListenPort") && !validPort(mc["proxyListenPort"]))
    out.push_back("proxyListenPort: must be a port number 1..65535");
  checkEnum(mc, "ingressControllerMode", {"UNSPECIFIED", "OFF", "DEFAULT", "STRICT"}, out, "");
  if (mc.contains("outboundTrafficPolicy"))
    checkEnum(mc["outboundTrafficPolicy"], "mode", {"REGISTRY_ONLY", "ALLOW_ANY"}, out, "outboundTrafficPolicy.");
  if (mc.contains("rootNamespace") && (!mc["rootNamespace"].is_string() || mc["rootNamespace"].get<std::string>().empty()))
    out.push_back("rootNamespace: must be a non-empty namespace name");
  if (const auto it = mc.find("extensionProviders"); it != mc.end() && it->is_array()) {
    std::set<std::string> names;
    for (const auto& p : *it) {
      std::string name = p.is_object() ? p.value("name", std::string()) : std::string();
      if (name.empty()) out.push_back("extensionProviders: every provider needs a name");
      else if (!names.insert(name).second) out.push_back(fmt::format("extensionProviders: duplicate name \"{}\"", name));
    }
  }
  if (const auto it = mc.find("defaultConfig"); it != mc.end() && it->is_object()) {
    if (it->contains("concurrency") && (!(*it)["concurrency"].is_number_integer() || (*it)["concurrency"].get<int64_t>() < 0))
      out.push_back("defaultConfig.concurrency: must be a non-negative integer");
    if (it->contains("discoveryAddress")) {
      const auto& a = (*it)["discoveryAddress"];
      std::string s = a.is_string() ? a.get<std::string>() : "";
      size_t colon = s.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
        out.push_back(fmt::format("defaultConfig.discoveryAddress: {} is not host:port", a.dump()));
    }
  }
  return out;
}

std::vector<std::string> validateMeshNetworks(const nlohmann::json& mn) {
  std::vector<std::string> out;
  if (!mn.is_object()) return {"mesh networks must be a map"};
  const auto it = mn.find("networks");
  if (it == mn.end() || !it->is_object()) return out;
  for (const auto& [network, spec] : it->items()) {
    std::string path = "networks." + network;
    if (!spec.is_object()) {
      out.push_back(path + ": must be a map");
      continue;
    }
    // Each endpoint names its members one way: a CIDR or a registry.
    if (const auto eps = spec.find("endpoints"); eps != spec.end() && eps->is_array())
      for (size_t i = 0; i < eps->size(); ++i) {
        const auto& ep = (*eps)[i];
        bool cidr = ep.contains("fromCidr"), registry = ep.contains("fromRegistry");
        std::string p = fmt::format("{}.endpoints[{}]", path, i);
        if (cidr == registry) out.push_back(p + ": set exactly one of fromCidr and fromRegistry");
        else if (cidr && (!ep["fromCidr"].is_string() || !validCidr(ep["fromCidr"].get<std::string>())))
          out.push_back(fmt::format("{}.fromCidr: invalid CIDR {}", p, ep["fromCidr"].dump()));
      }
    if (const auto gws = spec.find("gateways"); gws != spec.end() && gws->is_array())
      for (size_t i = 0; i < gws->size(); ++i) {
        const auto& gw = (*gws)[i];
        std::string p = fmt::format("{}.gateways[{}]", path, i);
        if (gw.contains("registryServiceName") == gw.contains("address"))
          out.push_back(p + ": set exactly one of registryServiceName and address");
        if (!gw.contains("port") || !validPort(gw["port"])) out.push_back(p + ".port: must be a port number 1..65535");
      }
  }
  return out;
}

}  // namespace mesh::analysis
