// x-forwarded-client-cert: see xfcc.h.
#include "proxy/dataplane/xfcc.h"

namespace mesh::proxy::dataplane {

namespace {

constexpr std::string_view kXfcc = "x-forwarded-client-cert";

// PEM in a header value: everything but unreserved characters percent-encoded.
std::string urlEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

}  // namespace

std::string clientCertDetails(const HttpConnectionManagerConfig::ClientCertDetails& details, const TlsSession& tls) {
  std::vector<std::string> parts;
  if (!tls.localUriSans.empty()) parts.push_back("By=" + tls.localUriSans.front());
  const PeerCertificate& peer = *tls.peer;
  if (!peer.sha256Hex.empty()) parts.push_back("Hash=" + peer.sha256Hex);
  // Envoy's order: Cert, Chain, Subject, URI, DNS.
  if (details.cert && !peer.certPem.empty()) parts.push_back("Cert=\"" + urlEncode(peer.certPem) + "\"");
  if (details.chain && !peer.chainPem.empty()) parts.push_back("Chain=\"" + urlEncode(peer.chainPem) + "\"");
  if (details.subject) parts.push_back("Subject=\"" + peer.subject + "\"");
  if (details.uri) parts.push_back("URI=" + (peer.uriSans.empty() ? std::string() : peer.uriSans.front()));
  if (details.dns) {
    for (const auto& dns : peer.dnsSans) parts.push_back("DNS=" + dns);
  }
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(';');
    out += p;
  }
  return out;
}

void applyForwardClientCert(HeaderMap& headers, const HttpConnectionManagerConfig& hcm, const Downstream& ds) {
  using Mode = HttpConnectionManagerConfig::ForwardClientCert;
  Mode mode = hcm.forwardClientCert;
  if (mode == Mode::AlwaysForwardOnly) return;
  bool mutualTls = ds.tls && ds.tls->peer;
  // Without a client certificate every mode but ALWAYS_FORWARD_ONLY drops what the client sent.
  if (mode == Mode::Sanitize || !mutualTls) {
    headers.remove(kXfcc);
    return;
  }
  if (mode == Mode::ForwardOnly) return;
  std::string mine = clientCertDetails(hcm.clientCertDetails, *ds.tls);
  if (mode == Mode::AppendForward) {
    auto existing = headers.getJoined(kXfcc);
    headers.set(kXfcc, existing && !existing->empty() ? *existing + "," + mine : mine);
  } else {
    headers.set(kXfcc, std::move(mine));
  }
}

}  // namespace mesh::proxy::dataplane
