#include "controlplane/ca/spiffe_id.h"

#include <fmt/format.h>

namespace mesh::ca {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool isSegment(std::string_view s) {
  if (s.empty() || s.size() > 253 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string SpiffeId::uri() const { return fmt::format("spiffe://{}/ns/{}/sa/{}", trustDomain, ns, serviceAccount); }

bool isValidTrustDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 255) return false;
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<SpiffeId> parseSpiffeId(std::string_view uri) {
  auto bad = [&](std::string_view why) {
    // The URI is the caller's input: quote it, bounded, so a log line stays one line.
    std::string shown(uri.substr(0, 200));
    return fail(ErrorCode::InvalidInput, fmt::format("{:?} is not a SPIFFE identity: {}", shown, why));
  };
  if (uri.size() > kMaxSpiffeIdBytes) return bad("longer than 2048 bytes");
  if (!uri.starts_with(kScheme)) return bad("the scheme must be spiffe://");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no path: Istio identities are /ns/NAMESPACE/sa/ACCOUNT");
  std::string_view domain = rest.substr(0, slash);
  if (!isValidTrustDomain(domain)) return bad("the trust domain must be 1-255 characters of a-z, 0-9, '.', '-', '_'");
  std::string_view path = rest.substr(slash + 1);
  // ns/NS/sa/SA: four segments exactly.
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    size_t end = path.find('/');
    if (i < 3 && end == std::string_view::npos) return bad("the path must be /ns/NAMESPACE/sa/ACCOUNT");
    if (i == 3 && end != std::string_view::npos) return bad("the path must be /ns/NAMESPACE/sa/ACCOUNT");
    parts[i] = path.substr(0, end);
    path = i < 3 ? path.substr(end + 1) : std::string_view{};
  }
  if (parts[0] != "ns" || parts[2] != "sa") return bad("the path must be /ns/NAMESPACE/sa/ACCOUNT");
  if (!isSegment(parts[1])) return bad("the namespace must be 1-253 characters of A-Z, a-z, 0-9, '.', '-', '_'");
  if (!isSegment(parts[3])) return bad("the service account must be 1-253 characters of A-Z, a-z, 0-9, '.', '-', '_'");
  return SpiffeId{std::string(domain), std::string(parts[1]), std::string(parts[3])};
}

}  // namespace mesh::ca
