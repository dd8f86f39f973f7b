// Value checks for the annotations the sidecar injector validates (Istio pkg/kube/inject
// AnnotationValidation). Error texts follow the injector's, including Go's strconv and netip
// wording, since they end up in IST0125 messages.
#include <arpa/inet.h>

#include <cstdint>
#include <functional>
#include <map>

#include "analyzers/annotations/annotation_table.h"
#include "core/yaml/parser.h"

namespace mesh::analysis {
namespace {

using Check = std::function<std::optional<std::string>(std::string_view)>;

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// strconv.ParseUint(s, 10, bits): decimal digits only, within the bit size.
std::optional<std::string> parseUint(std::string_view s, int bits, uint64_t* out = nullptr) {
  std::string prefix = "strconv.ParseUint: parsing " + quote(s) + ": ";
  if (s.empty()) return prefix + "invalid syntax";
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return prefix + "invalid syntax";
    if (v > (UINT64_MAX - 9) / 10)
      overflow = true;
    else
      v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (overflow || (bits < 64 && v >= (uint64_t{1} << bits))) return prefix + "value out of range";
  if (out) *out = v;
  return std::nullopt;
}

std::optional<std::string> parsePort(std::string_view s) {
  if (auto err = parseUint(trimSpace(s), 16))
    return "failed parsing port '" + std::string(s) + "': " + *err;
  return std::nullopt;
}

std::optional<std::string> validatePortList(std::string_view parameter, std::string_view ports) {
  ports = trimSpace(ports);
  while (!ports.empty()) {
    size_t comma = ports.find(',');
    std::string_view port = ports.substr(0, comma);
    if (auto err = parsePort(port))
      return std::string(parameter) + " invalid: failed parsing port '" + std::string(port) +
             "': " + *err;
    if (comma == std::string_view::npos) break;
    ports = ports.substr(comma + 1);
    if (ports.empty())
      return std::string(parameter) + " invalid: failed parsing port '': " + *parsePort("");
  }
  return std::nullopt;
}

// netip.ParsePrefix: an IPv4 or IPv6 address without zone, "/", decimal bits in range.
std::optional<std::string> parsePrefix(std::string_view cidr) {
  std::string prefix = "netip.ParsePrefix(" + quote(cidr) + "): ";
  size_t slash = cidr.rfind('/');
  if (slash == std::string_view::npos) return prefix + "no '/'";
  std::string addr(cidr.substr(0, slash));
  std::string_view bits = cidr.substr(slash + 1);
  if (addr.find('%') != std::string::npos)
    return prefix + "IPv6 zones cannot be present in a prefix";
  unsigned char buf[16];
  int maxBits;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1)
    maxBits = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1)
    maxBits = 128;
  else
    return prefix + "ParseAddr(" + quote(addr) + "): unable to parse IP";
  uint64_t n = 0;
  if (bits.empty() || (bits.size() > 1 && bits[0] == '0') || parseUint(bits, 64, &n))
    return prefix + "bad bits after slash: " + quote(bits);
  if (n > static_cast<uint64_t>(maxBits)) return prefix + "prefix length out of range";
  return std::nullopt;
}

std::optional<std::string> validateCidrList(std::string_view parameter, std::string_view cidrs) {
  if (cidrs.empty()) return std::nullopt;
  while (true) {
    size_t comma = cidrs.find(',');
    std::string_view cidr = cidrs.substr(0, comma);
    if (auto err = parsePrefix(cidr))
      return std::string(parameter) + " invalid: failed parsing cidr '" + std::string(cidr) +
             "': " + *err;
    if (comma == std::string_view::npos) return std::nullopt;
    cidrs = cidrs.substr(comma + 1);
  }
}

std::optional<std::string> validateBool(std::string_view v) {
  for (std::string_view ok :
       {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
    if (v == ok) return std::nullopt;
  return "strconv.ParseBool: parsing " + quote(v) + ": invalid syntax";
}

// Go durations as protobuf JSON writes them: decimal seconds with an "s" suffix.
bool isProtoDuration(std::string_view s) {
  if (!s.ends_with('s') || s.size() < 2) return false;
  s.remove_suffix(1);
  if (s.starts_with('-')) s.remove_prefix(1);
  bool digit = false, dot = false;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c == '.' && !dot)
      dot = true;
    else
      return false;
  }
  return digit;
}

// proxy.istio.io/config: YAML applied over the default ProxyConfig, then validated. Unknown
// fields are tolerated, as Istio's ApplyYAML does; the fields checked are the scalar ones
// users commonly set.
std::optional<std::string> validateProxyConfig(std::string_view value) {
  core::ParsedFile parsed = core::parseYaml("", value);
  std::string convert = "failed to convert to apply proxy config: ";
  if (parsed.error) return convert + parsed.error->message;
  if (parsed.documents.empty() || parsed.documents.front()->isNull()) return std::nullopt;
  const core::Node* pc = parsed.documents.front();
  if (!pc->isMapping())
    return convert + "json: cannot unmarshal " + std::string(pc->typeName()) + " into ProxyConfig";
  for (std::string_view key : {"concurrency", "statusPort", "proxyAdminPort"})
    if (const core::Node* n = pc->get(key); n && !n->isNull() && !n->asInt())
      return convert + "bad value for field " + std::string(key);
  if (const core::Node* n = pc->get("holdApplicationUntilProxyStarts");
      n && !n->isNull() && !n->asBool())
    return convert + "bad value for field holdApplicationUntilProxyStarts";
  for (std::string_view key :
       {"drainDuration", "terminationDrainDuration", "parentShutdownDuration"})
    if (const core::Node* n = pc->get(key); n && !n->isNull() && !isProtoDuration(n->text()))
      return convert + "bad Duration: " + std::string(n->text());
  if (const core::Node* n = pc->get("concurrency"); n && n->asInt().value_or(0) < 0)
    return "concurrency must be greater than or equal to 0";
  for (std::string_view key : {"statusPort", "proxyAdminPort"})
    if (const core::Node* n = pc->get(key);
        n && n->asInt() && (*n->asInt() < 1 || *n->asInt() > 65535))
      return std::string(key == "statusPort" ? "status port" : "proxy admin port") + " number " +
             std::to_string(*n->asInt()) + " must be in the range 1..65535";
  if (const core::Node* n = pc->get("discoveryAddress"); n && n->isScalar()) {
    std::string_view addr = n->text();
    size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return "invalid discovery address: address " + std::string(addr) +
             ": missing port in address";
    if (parseUint(addr.substr(colon + 1), 16)) return "invalid discovery address: invalid port";
  }
  return std::nullopt;
}

const std::map<std::string_view, Check>& checks() {
  static const std::map<std::string_view, Check> kChecks = {
      {"sidecar.istio.io/interceptionMode",
       [](std::string_view v) -> std::optional<std::string> {
         if (v == "REDIRECT" || v == "TPROXY" || v == "NONE") return std::nullopt;
         return "interceptionMode invalid, use REDIRECT,TPROXY,NONE: " + std::string(v);
       }},
      {"status.sidecar.istio.io/port",
       [](std::string_view v) -> std::optional<std::string> {
         if (auto err = parsePort(v)) return "excludeInboundPorts invalid: " + *err;
         return std::nullopt;
       }},
      {"readiness.status.sidecar.istio.io/initialDelaySeconds",
       [](std::string_view v) { return parseUint(v, 32); }},
      {"readiness.status.sidecar.istio.io/periodSeconds",
       [](std::string_view v) { return parseUint(v, 32); }},
      {"readiness.status.sidecar.istio.io/failureThreshold",
       [](std::string_view v) { return parseUint(v, 32); }},
      {"traffic.sidecar.istio.io/includeOutboundIPRanges",
       [](std::string_view v) -> std::optional<std::string> {
         if (v == "*") return std::nullopt;
         return validateCidrList("includeIPRanges", v);
       }},
      {"traffic.sidecar.istio.io/excludeOutboundIPRanges",
       [](std::string_view v) { return validateCidrList("excludeIPRanges", v); }},
      {"traffic.sidecar.istio.io/includeInboundPorts",
       [](std::string_view v) -> std::optional<std::string> {
         if (v == "*") return std::nullopt;
         return validatePortList("includeInboundPorts", v);
       }},
      {"traffic.sidecar.istio.io/excludeInboundPorts",
       [](std::string_view v) { return validatePortList("excludeInboundPorts", v); }},
      {"traffic.sidecar.istio.io/excludeOutboundPorts",
       [](std::string_view v) { return validatePortList("excludeOutboundPorts", v); }},
      {"prometheus.istio.io/merge-metrics", validateBool},
      {"proxy.istio.io/config", validateProxyConfig},
  };
  return kChecks;
}

}  // namespace

std::optional<std::string> validateAnnotationValue(std::string_view name, std::string_view value) {
  auto it = checks().find(name);
  if (it == checks().end()) return std::nullopt;
  return it->second(value);
}

}  // namespace mesh::analysis
