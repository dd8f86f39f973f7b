#include "proxy/dataplane/security_filters.h"

#include "proxy/dataplane/asio_includes.h"

#include <algorithm>
#include <chrono>

#include "proxy/authz/jwt_authn.h"
#include "proxy/authz/rbac_engine.h"
#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/ext_authz.h"
#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

namespace {

// The request as the matchers read it: lower-case names, pseudo-headers from the head.
class HeadView : public authz::RequestHeaders {
 public:
  explicit HeadView(const RequestHead& r) : r_(r) {}
  std::optional<std::string> get(std::string_view name) const override {
    if (name == ":method") return r_.method;
    if (name == ":path") return r_.path;
    if (name == ":authority" || name == "host") return r_.authority;
    if (name == ":scheme") return r_.scheme;
    return r_.headers.getJoined(name);
  }

 private:
  const RequestHead& r_;
};

// Envoy's remote address for remote_ip: the X-Forwarded-For entry xff_num_trusted_hops from
// the right (the connection manager has appended the peer when use_remote_address is set),
// else the peer itself.
std::string remoteAddressOf(const RequestHead& r, const HttpConnectionManagerConfig& hcm, const ConnectionInfo& info) {
  auto xff = r.headers.getJoined("x-forwarded-for");
  if (!xff) return info.sourceAddress;
  std::vector<std::string_view> hops;
  std::string_view rest = *xff;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view hop = rest.substr(0, comma);
    while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
    while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
    hops.push_back(hop);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (hops.size() <= hcm.xffTrustedHops) return info.sourceAddress;
  std::string_view chosen = hops[hops.size() - 1 - hcm.xffTrustedHops];
  return chosen.empty() ? info.sourceAddress : std::string(chosen);
}

authz::AuthzRequest connectionRequest(const ConnectionInfo& info) {
  authz::AuthzRequest a;
  a.peerPrincipal = info.peerPrincipal;
  a.directRemoteAddress = info.sourceAddress;
  a.directRemotePort = info.sourcePort;
  a.remoteAddress = info.sourceAddress;
  a.destinationAddress = info.destinationAddress;
  a.destinationPort = info.destinationPort;
  a.serverName = info.serverName;
  return a;
}

// jwt_authn's local reply: 401 (403 for audiences) with Envoy's text and a Bearer challenge.
SecurityVerdict jwtDenial(const authz::JwtResult& r, const RequestHead& request) {
  SecurityVerdict v;
  v.kind = SecurityVerdict::Kind::LocalReply;
  v.status = r.httpStatus;
  v.body = r.message;
  std::string challenge = "Bearer realm=\"http://" + request.authority + std::string(request.pathOnly()) + "\"";
  if (!r.tokenMissing) challenge += ", error=\"invalid_token\"";
  v.headers.add("www-authenticate", std::move(challenge));
  std::string detail = r.message;
  for (char& c : detail) {
    if (c == ' ') c = '_';
  }
  v.details = "jwt_authn_access_denied{" + detail + "}";
  return v;
}

}  // namespace

bool HttpConnectionManagerConfig::hasSecurityFilters() const {
  return !networkRbac.empty() || std::any_of(httpFilters.begin(), httpFilters.end(), [](const HttpFilter& f) {
           return f.kind == HttpFilterKind::JwtAuthn || f.kind == HttpFilterKind::Rbac ||
                  f.kind == HttpFilterKind::ExtAuthz;
         });
}

bool networkRbacAllows(Engine& engine, const NetworkRbacFilters& filters, const ConnectionInfo& info) {
  if (filters.empty()) return true;
  authz::DynamicMetadata metadata = authz::DynamicMetadata::object();
  return networkRbacAllows(engine, filters, info, metadata, 0, filters.size());
}

bool networkRbacAllows(Engine& engine, const NetworkRbacFilters& filters, const ConnectionInfo& info,
                       authz::DynamicMetadata& metadata, size_t begin, size_t end) {
  authz::AuthzRequest a = connectionRequest(info);
  a.metadata = &metadata;
  for (size_t i = begin; i < end && i < filters.size(); ++i) {
    const auto& f = filters[i];
    authz::RbacDecision d = f->evaluate(a, &metadata);
    if (!d.allowed) {
      engine.rbacDenied.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    engine.rbacAllowed.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

asio::awaitable<SecurityVerdict> runSecurityFilters(Engine& engine, Worker& worker,
                                                   const HttpConnectionManagerConfig& hcm, RequestHead& request,
                                                   std::string& body, DownstreamStream& stream) {
  const ConnectionInfo& info = stream.connection().info;
  SecurityVerdict v;
  // Network RBAC in front of an HCM runs per request here: a denial closes the connection.
  if (!networkRbacAllows(engine, hcm.networkRbac, info)) {
    v.kind = SecurityVerdict::Kind::Close;
    co_return v;
  }
  authz::DynamicMetadata metadata = authz::DynamicMetadata::object();
  std::string remote;
  for (const HttpFilter& f : hcm.httpFilters) {
    if (f.kind == HttpFilterKind::JwtAuthn) {
      HeadView view(request);
      int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      authz::JwtResult r = f.jwt->verify(authz::JwtRequest{request.method, request.path, &view}, now);
      if (!r.allowed) {
        engine.jwtDenied.fetch_add(1, std::memory_order_relaxed);
        co_return jwtDenial(r, request);
      }
      for (const std::string& name : r.removeHeaders) request.headers.remove(name);
      for (auto& [name, value] : r.setHeaders) request.headers.set(name, std::move(value));
      if (r.metadata.is_object()) metadata.update(r.metadata, true);
    } else if (f.kind == HttpFilterKind::Rbac) {
      HeadView view(request);
      if (remote.empty()) remote = remoteAddressOf(request, hcm, info);
      authz::AuthzRequest a = connectionRequest(info);
      a.remoteAddress = remote;
      a.headers = &view;
      a.metadata = &metadata;
      authz::RbacDecision d = f.rbac->evaluate(a, &metadata);
      if (!d.allowed) {
        engine.rbacDenied.fetch_add(1, std::memory_order_relaxed);
        v.kind = SecurityVerdict::Kind::LocalReply;
        v.status = 403;
        v.body = "RBAC: access denied";
        v.details = "rbac_access_denied_matched_policy[" + (d.matchedPolicy.empty() ? std::string("none") : d.matchedPolicy) + "]";
        co_return v;
      }
      engine.rbacAllowed.fetch_add(1, std::memory_order_relaxed);
    } else if (f.kind == HttpFilterKind::ExtAuthz) {
      SecurityVerdict r = co_await runExtAuthz(engine, worker, *f.extAuthz, request, body, stream, metadata);
      if (r.kind != SecurityVerdict::Kind::Continue) co_return r;
    }
  }
  co_return v;
}

}  // namespace mesh::proxy::dataplane
