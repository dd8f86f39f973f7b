// EndpointSlice rules (discovery/validation): addresses of the slice's addressType, at most 100
// per endpoint, valid hostnames, unique port names.
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

void validateEndpointSlice(const Resource& r, ValidationContext& ctx) {
  const Node& root = r.root();
  std::string_view type = text(&root, "addressType");
  auto endpoints = items(&root, "endpoints");
  if (endpoints.size() > 1000) ctx.error(field(&root, "endpoints"), "endpoints", "an EndpointSlice holds at most 1000 endpoints");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    std::string p = at("endpoints", i);
    auto addresses = items(endpoints[i], "addresses");
    if (field(endpoints[i], "addresses") && addresses.empty())
      ctx.error(field(endpoints[i], "addresses"), sub(p, "addresses"), "an endpoint needs at least one address");
    if (addresses.size() > 100) ctx.error(field(endpoints[i], "addresses"), sub(p, "addresses"), "an endpoint has at most 100 addresses");
    for (size_t j = 0; j < addresses.size(); ++j) {
      auto a = stringOf(addresses[j]);
      if (!a) continue;
      bool ok = type == "IPv4" ? isIpv4(*a) : type == "IPv6" ? isIpv6(*a) : type == "FQDN" ? isDns1123Subdomain(*a) : true;
      if (!ok) ctx.error(addresses[j], at(sub(p, "addresses"), j), fmt::format("\"{}\" is not a valid {} address", *a, type));
    }
    const Node* hostname = field(endpoints[i], "hostname");
    if (auto h = stringOf(hostname))
      if (std::string err = checkDns1123Label(*h); !err.empty()) ctx.error(hostname, sub(p, "hostname"), "hostname " + err);
    const Node* node = field(endpoints[i], "nodeName");
    if (auto n = stringOf(node))
      if (std::string err = checkDns1123Subdomain(*n); !err.empty()) ctx.error(node, sub(p, "nodeName"), "nodeName " + err);
  }
  std::set<std::string_view> names;
  auto ports = items(&root, "ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = at("ports", i);
    const Node* name = field(ports[i], "name");
    std::string_view n = name ? name->text() : std::string_view();
    if (!names.insert(n).second) ctx.error(name ? name : ports[i], sub(p, "name"), fmt::format("duplicate port name \"{}\"", n));
    else if (!n.empty())
      if (std::string err = checkDns1123Label(n); !err.empty()) ctx.error(name, sub(p, "name"), "port name " + err);
    const Node* port = field(ports[i], "port");
    if (auto v = intOf(port); v && (*v < 0 || *v > 65535)) ctx.error(port, sub(p, "port"), fmt::format("port {} is out of range 0..65535", *v));
  }
}

}  // namespace mesh::core
