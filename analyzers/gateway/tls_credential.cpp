#include "analyzers/gateway/tls_credential.h"

#include <openssl/asn1.h>
#include <openssl/x509.h>

namespace mesh::analysis {
namespace {

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// One PEM block as Go's pem.Decode finds it: the first "-----BEGIN TYPE-----" line whose body
// (after optional "Key: value" headers) is base64 ending at "-----END TYPE-----". A malformed
// block is skipped and the search goes on after it.
std::optional<std::string> firstPemBlock(std::string_view data) {
  size_t pos = 0;
  while (true) {
    size_t begin = data.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) return std::nullopt;
    pos = begin + 1;
    if (begin != 0 && data[begin - 1] != '\n') continue;
    size_t lineEnd = data.find('\n', begin);
    std::string_view line =
        data.substr(begin, lineEnd == std::string_view::npos ? std::string_view::npos : lineEnd - begin);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    constexpr std::string_view kBegin = "-----BEGIN ", kDashes = "-----";
    if (line.size() < kBegin.size() + kDashes.size() || !line.ends_with(kDashes)) continue;
    std::string type(line.substr(kBegin.size(), line.size() - kBegin.size() - kDashes.size()));
    if (lineEnd == std::string_view::npos) continue;
    std::string endMarker = "-----END " + type + "-----";
    size_t end = data.find(endMarker, lineEnd);
    if (end == std::string_view::npos) continue;
    std::string_view body = data.substr(lineEnd + 1, end - lineEnd - 1);
    // Headers, if any, end with a blank line.
    if (size_t colon = body.find(':'); colon != std::string_view::npos) {
      size_t blank = body.find("\n\n");
      if (blank == std::string_view::npos) blank = body.find("\r\n\r\n");
      if (blank != std::string_view::npos && colon < blank) body = body.substr(blank + 2);
    }
    if (auto der = decodeBase64(body)) return der;
  }
}

bool validAt(const X509* cert, std::time_t now) {
  std::time_t t = now;
  // X509_cmp_time: -1 when the ASN.1 time is before t, 1 when after, 0 on error.
  int notAfter = X509_cmp_time(X509_get0_notAfter(cert), &t);
  int notBefore = X509_cmp_time(X509_get0_notBefore(cert), &t);
  return notAfter > 0 && notBefore < 0;
}

std::optional<std::string> dataValue(const core::Node* data, std::string_view key) {
  const core::Node* v = data ? data->get(key) : nullptr;
  if (!v || !v->isScalar()) return std::nullopt;
  return decodeBase64(v->text());
}

}  // namespace

std::optional<std::string> decodeBase64(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0, padding = 0, chars = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      ++chars;
      continue;
    }
    int v = base64Value(c);
    if (v < 0 || padding > 0) return std::nullopt;
    ++chars;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (chars % 4 != 0 || padding > 2) return std::nullopt;
  return out;
}

std::optional<std::string> gatewayCertificate(const core::Resource& secret) {
  const core::Node* data = secret.root().get("data");
  for (auto [cert, key] : {std::pair{"cert", "key"}, std::pair{"tls.crt", "tls.key"}}) {
    auto c = dataValue(data, cert);
    auto k = dataValue(data, key);
    if (c && k && !c->empty() && !k->empty()) return c;
  }
  return std::nullopt;
}

bool certificateUsable(std::string_view pem, std::time_t now) {
  auto der = firstPemBlock(pem);
  if (!der) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  const auto* end = p + der->size();
  // Go's x509.ParseCertificates: every byte must belong to a certificate.
  while (p < end) {
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(end - p));
    if (!cert) return false;
    bool ok = validAt(cert, now);
    X509_free(cert);
    if (!ok) return false;
  }
  return true;
}

bool isValidGatewayCredential(const core::Resource& secret, std::time_t now) {
  auto cert = gatewayCertificate(secret);
  return cert && certificateUsable(*cert, now);
}

}  // namespace mesh::analysis
