// externalcontrolplane.ExternalControlPlaneAnalyzer: on a remote cluster the Istio validating
// (istiod-default-validator, istio-validator*) and injecting (istio-sidecar-injector*) webhooks
// reach an external istiod. Each webhook needs a URL or a service (IST0163); a URL must parse
// and name a host (IST0163), and a host given as an IP address is flagged (IST0164). Unlike
// older istioctl versions no DNS lookup is made, so results do not depend on the network.
#include <arpa/inet.h>

#include <cctype>
#include <optional>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

struct UrlHost {
  std::string hostname;  // without port or IPv6 brackets
};

bool isSchemeChar(char c, bool first) {
  if (std::isalpha(static_cast<unsigned char>(c))) return true;
  return !first && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
}

bool validEscapes(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return false;
    i += 2;
  }
  return true;
}

// The parts of Go's url.Parse that can fail, and URL.Hostname(). nullopt: not a valid URL.
std::optional<UrlHost> parseUrl(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  if (size_t hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  std::string_view rest = url;
  bool hasScheme = false;
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] == ':') {
      if (i == 0) return std::nullopt;  // "missing protocol scheme"
      hasScheme = true;
      rest = url.substr(i + 1);
      break;
    }
    if (!isSchemeChar(url[i], i == 0)) break;
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  UrlHost out;
  if (!rest.starts_with("//") || (!hasScheme && rest.starts_with("///"))) {
    // No authority: a colon in the first path segment of a scheme-less URL is an error.
    if (!hasScheme) {
      size_t colon = rest.find(':'), slash = rest.find('/');
      if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) return std::nullopt;
    }
    return validEscapes(rest) ? std::optional(out) : std::nullopt;
  }
  std::string_view authority = rest.substr(2);
  std::string_view path;
  if (size_t slash = authority.find('/'); slash != std::string_view::npos) {
    path = authority.substr(slash);
    authority = authority.substr(0, slash);
  }
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view host = authority, port;
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port[0] != ':') return std::nullopt;
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  for (char c : port.empty() ? std::string_view() : port.substr(1))
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;  // "invalid port"
  for (char c : host)
    if (c == ' ' || c == '<' || c == '>' || c == '"' || c == '`' || c == '{' || c == '}' || c == '|' || c == '\\' ||
        c == '^')
      return std::nullopt;  // "invalid character in host name"
  if (!validEscapes(host) || !validEscapes(path)) return std::nullopt;
  out.hostname = std::string(host);
  return out;
}

bool isIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool present(const core::Node* n) { return n && !n->isNull(); }

void checkWebhooks(const core::Resource& config, Reporter& reporter) {
  const core::Node* webhooks = config.root().get("webhooks");
  if (!webhooks) return;
  for (const core::Node* hook : webhooks->items()) {
    const core::Node* nameNode = hook->get("name");
    std::string name(nameNode ? nameNode->text() : "");
    const core::Node* client = hook->get("clientConfig");
    const core::Node* url = client ? client->get("url") : nullptr;
    if (present(url)) {
      std::string text(url->text());
      auto parsed = parseUrl(text);
      if (!parsed)
        reporter.report(messageType("InvalidExternalControlPlaneConfig"), config,
                        {text, name, std::string("was provided in an invalid format")}, url);
      else if (parsed->hostname.empty())
        reporter.report(messageType("InvalidExternalControlPlaneConfig"), config,
                        {text, name, std::string("does not contain a hostname")}, url);
      else if (isIpAddress(parsed->hostname))
        reporter.report(messageType("ExternalControlPlaneAddressIsNotAHostname"), config, {text, name}, url);
    } else if (!present(client ? client->get("service") : nullptr)) {
      reporter.report(messageType("InvalidExternalControlPlaneConfig"), config,
                      {std::string(), name, std::string("is blank")}, hook);
    }
  }
}

class ExternalControlPlaneAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "externalcontrolplane.ExternalControlPlaneAnalyzer",
        "Checks that the remote IstioOperator resources reference an external control plane",
        {kinds::ValidatingWebhookConfiguration, kinds::MutatingWebhookConfiguration}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* config : snapshot.all(kinds::ValidatingWebhookConfiguration)) {
      std::string_view name = config->name();
      if (!name.empty() && (name == "istiod-default-validator" || name.starts_with("istio-validator")))
        checkWebhooks(*config, reporter);
    }
    for (const core::Resource* config : snapshot.all(kinds::MutatingWebhookConfiguration))
      if (config->name().starts_with("istio-sidecar-injector")) checkWebhooks(*config, reporter);
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeExternalControlPlaneAnalyzer() {
  return std::make_unique<ExternalControlPlaneAnalyzer>();
}

}  // namespace mesh::analysis
