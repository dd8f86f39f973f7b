// Envoy's envoy.filters.http.ext_authz. With an http_service the request's method, path (after
// path_prefix), allowed headers and optionally its body go to the authorization cluster; 200
// allows (allowed_upstream_headers copied onto the request), any other answer is returned to the
// client. With a grpc_service (envoy_grpc) a CheckRequest goes to Authorization/Check
// (ext_authz_grpc.h). Errors give status_on_error unless failure_mode_allow. filter_enabled_metadata (Istio's
// CUSTOM action: RBAC shadow rules tag the requests) decides which requests are checked.
// Compiled on the config thread; run on the request's worker (security_filters.cpp).
#pragma once

#include <google/protobuf/any.pb.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "proxy/authz/authz_request.h"
#include "proxy/authz/matchers.h"
#include "proxy/dataplane/asio_includes.h"
#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/runtime_config.h"
#include "proxy/dataplane/security_filters.h"

namespace mesh::proxy::dataplane {

class Engine;
struct Worker;
class DownstreamStream;

struct ExtAuthzConfig {
  bool grpc = false;       // grpc_service (envoy_grpc) rather than http_service
  std::string cluster;     // http_service.server_uri.cluster or envoy_grpc.cluster_name
  std::string grpcAuthority;  // envoy_grpc.authority, else the cluster name
  std::string pathPrefix;  // http_service.path_prefix
  Millis timeout{200};     // server_uri.timeout or grpc_service.timeout
  // HTTP: request headers sent besides :method, :path, host, authorization and content-length
  // (ExtAuthz.allowed_headers and authorization_request.allowed_headers), minus disallowed.
  // gRPC: the CheckRequest's headers (all when the list is empty), minus disallowed.
  std::vector<StringMatch> allowedHeaders;
  std::vector<StringMatch> disallowedHeaders;
  // authorization_request.headers_to_add; gRPC: grpc_service.initial_metadata.
  std::vector<std::pair<std::string, std::string>> headersToAdd;
  std::vector<StringMatch> upstreamHeaders;          // set on an allowed request
  std::vector<StringMatch> upstreamHeadersToAppend;  // appended on an allowed request
  std::vector<StringMatch> clientHeaders;            // of a denial; empty: all but host
  bool failureModeAllow = false;
  bool failureModeAllowHeaderAdd = false;
  unsigned statusOnError = 403;
  struct BodySettings {
    uint64_t maxBytes = 0;
    bool allowPartial = false;
  };
  std::optional<BodySettings> withBody;
  bool packAsBytes = false;  // gRPC: the body as raw_body
  std::optional<authz::MetadataMatcher> enabledMetadata;  // filter_enabled_metadata
  std::optional<Fraction> enabledFraction;                // filter_enabled's default_value
  bool denyAtDisable = false;  // a request the filter skips is denied with statusOnError
};

// An ExtAuthz typed_config; unsupported fields (google_grpc, response headers on success,
// mutation rules, ...) are errors naming the field, so the listener is NACKed.
Result<std::shared_ptr<const ExtAuthzConfig>> compileExtAuthz(const google::protobuf::Any& typedConfig,
                                                              const std::string& where);

// Checks `request` (body: what was read of it; more is read from `stream`, up to max_request_bytes,
// when with_request_body asks) against the authorization service. Continue, possibly with
// headers added to `request`, or the LocalReply to send.
boost::asio::awaitable<SecurityVerdict> runExtAuthz(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                                    RequestHead& request, std::string& body,
                                                    DownstreamStream& stream,
                                                    const authz::DynamicMetadata& metadata);

}  // namespace mesh::proxy::dataplane
