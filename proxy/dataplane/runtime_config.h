// RuntimeConfig: an XdsSnapshot compiled once into the immutable structures the data plane
// serves from (listeners, filter chains, route tables, clusters with their endpoints). Built on
// the xDS client's thread by compileSnapshot(); read by every worker thread through a
// shared_ptr<const RuntimeConfig>, so a request keeps the config it started with.
#pragma once

#include <re2/re2.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proxy/telemetry/peer_labels.h"
#include "proxy/telemetry/request_record.h"

namespace mesh::proxy::authz {
class JwtAuthn;    // proxy/authz/jwt_authn.h
class RbacFilter;  // proxy/authz/rbac_engine.h
}  // namespace mesh::proxy::authz

namespace mesh::proxy::dataplane {

using Millis = std::chrono::milliseconds;

struct DownstreamTlsConfig;  // tls_config.h
struct ExtAuthzConfig;       // ext_authz.h
struct UpstreamTlsConfig;

// A fraction in parts per million (Envoy's FractionalPercent, normalised).
struct Fraction {
  uint32_t perMillion = 1'000'000;
};

struct StringMatch {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex };
  Kind kind = Kind::Exact;
  std::string value;  // lower-cased when ignoreCase
  bool ignoreCase = false;
  std::shared_ptr<const re2::RE2> regex;
  bool matches(std::string_view input) const;
};

struct HeaderMatcher {
  std::string name;  // lower case
  enum class Kind { Present, Value, Range };
  Kind kind = Kind::Present;
  bool presentMatch = true;
  StringMatch value;
  int64_t rangeStart = 0;  // [start, end)
  int64_t rangeEnd = 0;
  bool invert = false;
  bool treatMissingAsEmpty = false;
};

struct QueryParameterMatcher {
  std::string name;
  std::optional<StringMatch> value;  // empty: presence is enough
};

struct RouteMatch {
  // Connect: connect_matcher, which matches CONNECT requests only (path matchers never do).
  enum class PathKind { Prefix, Path, Regex, PathSeparatedPrefix, Connect };
  PathKind pathKind = PathKind::Prefix;
  std::string path;
  std::shared_ptr<const re2::RE2> regex;
  bool caseSensitive = true;
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> queryParameters;
  std::optional<Fraction> runtimeFraction;
  bool grpcOnly = false;
};

struct HeaderToAdd {
  std::string name;  // lower case
  std::string value;
  enum class Action { Append, AddIfAbsent, OverwriteIfExistsOrAdd, OverwriteIfExists };
  Action action = Action::Append;
};

struct HeaderMutation {
  std::vector<HeaderToAdd> add;
  std::vector<std::string> remove;  // lower case
  bool empty() const { return add.empty() && remove.empty(); }
};

// Bits of RetryPolicy.retry_on that this proxy implements (Envoy's x-envoy-retry-on names).
enum RetryOn : uint32_t {
  kRetry5xx = 1u << 0,
  kRetryGatewayError = 1u << 1,
  kRetryConnectFailure = 1u << 2,
  kRetryReset = 1u << 3,
  kRetryRetriable4xx = 1u << 4,
  kRetryRetriableStatusCodes = 1u << 5,
  kRetryRefusedStream = 1u << 6,
};

struct RetryPolicy {
  uint32_t retryOn = 0;
  uint32_t numRetries = 1;
  Millis perTryTimeout{0};  // 0: only the route timeout applies
  Millis baseInterval{25};
  Millis maxInterval{250};
  std::vector<uint32_t> retriableStatusCodes;
  uint32_t hostSelectionMaxAttempts = 1;
  bool avoidPreviousHosts = false;
};

struct MirrorPolicy {
  std::string cluster;
  Fraction fraction;
};

struct HashPolicy {
  enum class Kind { Header, Cookie, SourceIp, QueryParameter };
  Kind kind = Kind::Header;
  std::string name;  // header (lower case), cookie or parameter name
  bool terminal = false;
};

struct FaultConfig {
  struct Delay {
    Millis fixed{0};
    Fraction fraction;
    bool fromHeader = false;  // x-envoy-fault-delay-request
  };
  struct Abort {
    uint32_t httpStatus = 0;
    std::optional<uint32_t> grpcStatus;
    Fraction fraction;
    bool fromHeader = false;  // x-envoy-fault-abort-request
  };
  std::optional<Delay> delay;
  std::optional<Abort> abort;
  std::vector<HeaderMatcher> headers;  // the fault applies only when these match
  std::vector<std::string> downstreamNodes;
  std::optional<uint32_t> maxActiveFaults;
};

struct WeightedCluster {
  std::string name;
  std::string clusterHeader;
  uint32_t weight = 0;
  HeaderMutation requestHeaders;
  HeaderMutation responseHeaders;
  std::shared_ptr<const FaultConfig> fault;
};

struct RouteAction {
  std::string cluster;
  std::string clusterHeader;  // lower case
  std::vector<WeightedCluster> weightedClusters;
  uint64_t totalWeight = 0;
  uint32_t clusterNotFoundCode = 503;
  std::optional<std::string> prefixRewrite;
  std::shared_ptr<const re2::RE2> regexRewrite;
  std::string regexSubstitution;
  std::string hostRewriteLiteral;
  std::string hostRewriteHeader;
  bool autoHostRewrite = false;
  Millis timeout{15000};  // 0: none
  std::optional<RetryPolicy> retryPolicy;
  std::vector<MirrorPolicy> mirrors;
  std::vector<HashPolicy> hashPolicies;
  std::map<std::string, bool, std::less<>> upgrades;  // upgrade type (lower case) → enabled
  // upgrade_configs CONNECT with connect_config: CONNECT is terminated here (a TCP connection
  // to the host, the payload relayed raw) instead of being forwarded as a request.
  bool connectTerminate = false;
  std::optional<Millis> idleTimeout;  // idle_timeout: overrides the HCM's stream_idle_timeout
};

struct RedirectAction {
  std::string scheme;  // empty: keep
  std::string host;
  uint32_t port = 0;
  std::optional<std::string> path;
  std::optional<std::string> prefixRewrite;
  std::shared_ptr<const re2::RE2> regexRewrite;
  std::string regexSubstitution;
  uint32_t responseCode = 301;
  bool stripQuery = false;
};

struct DirectResponse {
  uint32_t status = 200;
  std::string body;
};

struct Route {
  std::string name;
  RouteMatch match;
  std::variant<RouteAction, RedirectAction, DirectResponse> action;
  HeaderMutation requestHeaders;
  HeaderMutation responseHeaders;
  std::shared_ptr<const FaultConfig> fault;  // typed_per_filter_config["envoy.filters.http.fault"]
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;
  std::vector<Route> routes;
  HeaderMutation requestHeaders;
  HeaderMutation responseHeaders;
  std::optional<RetryPolicy> retryPolicy;
  std::shared_ptr<const FaultConfig> fault;
};

struct RouteConfig {
  std::string name;
  std::vector<VirtualHost> virtualHosts;
  HeaderMutation requestHeaders;
  HeaderMutation responseHeaders;
  // Domain index in Envoy's precedence: exact, then *.suffix and prefix.* (longest first),
  // then "*". Values index virtualHosts.
  std::map<std::string, size_t, std::less<>> exactDomains;
  std::vector<std::pair<std::string, size_t>> suffixDomains;  // "*.x" stored as ".x"
  std::vector<std::pair<std::string, size_t>> prefixDomains;  // "x.*" stored as "x."
  std::optional<size_t> defaultHost;
  bool ignorePortInHostMatching = false;  // the Host's port is left out when domains are matched
};

// http2_protocol_options as this proxy applies them to either side of an h2c connection.
// Windows default below Envoy's 256 MiB: received data is acknowledged only as the router
// takes it, so a window is how much one stream may buffer here.
struct Http2Options {
  uint32_t maxConcurrentStreams = 100;
  uint32_t initialStreamWindowSize = 1024 * 1024;
  uint32_t initialConnectionWindowSize = 4 * 1024 * 1024;
  bool allowConnect = false;  // allow_connect: downstream CONNECT streams (else reset)
};

enum class HttpFilterKind { Fault, Router, NoOp, JwtAuthn, Rbac, ExtAuthz };

struct HttpFilter {
  std::string name;
  HttpFilterKind kind = HttpFilterKind::NoOp;
  std::shared_ptr<const FaultConfig> fault;  // listener-level fault config
  std::shared_ptr<const authz::JwtAuthn> jwt;     // JwtAuthn
  std::shared_ptr<const authz::RbacFilter> rbac;  // Rbac
  std::shared_ptr<const ExtAuthzConfig> extAuthz;  // ExtAuthz
};

// envoy.filters.network.rbac filters of a chain, in order, run before its terminal filter.
using NetworkRbacFilters = std::vector<std::shared_ptr<const authz::RbacFilter>>;

// Istio's istio.alpn filter: the ALPN an upstream TLS connection offers instead of its
// context's, by the protocol the request goes upstream with (empty: no override).
struct AlpnOverride {
  std::vector<std::string> http10, http11, http2;
};

struct HttpConnectionManagerConfig {
  std::string statPrefix;
  std::shared_ptr<const RouteConfig> inlineRoutes;
  std::string rdsName;  // when routes come from RDS
  std::vector<HttpFilter> httpFilters;
  bool normalizePath = false;
  bool mergeSlashes = false;
  bool useRemoteAddress = false;
  uint32_t xffTrustedHops = 0;
  bool generateRequestId = true;
  bool preserveExternalRequestId = false;
  std::string serverName = "envoy";
  enum class ServerHeader { Overwrite, AppendIfAbsent, PassThrough };
  ServerHeader serverHeader = ServerHeader::Overwrite;
  uint32_t maxRequestHeadersKb = 60;
  uint32_t maxHeadersCount = 100;
  bool rejectHeadersWithUnderscores = false;
  bool dropHeadersWithUnderscores = false;
  enum class StripPort { None, Matching, Any };
  StripPort stripPort = StripPort::None;
  Millis idleTimeout{3'600'000};
  Millis requestHeadersTimeout{0};
  Millis streamIdleTimeout{300'000};  // stream_idle_timeout (Envoy's 5 min); 0: none
  std::map<std::string, bool, std::less<>> upgrades;  // upgrade_configs: type (lower case) → enabled
  enum class Codec { Auto, Http1, Http2 };  // AUTO: HTTP/2 when the client preface comes first
  Codec codec = Codec::Auto;
  Http2Options http2;
  // http_protocol_options.enable_trailers: HTTP/1.1 clients' request trailers are kept and
  // response trailers written to them (Envoy's HTTP/1 codec drops both otherwise).
  bool http1Trailers = false;
  // forward_client_cert_details and set_current_client_cert_details (x-forwarded-client-cert).
  enum class ForwardClientCert { Sanitize, ForwardOnly, AppendForward, SanitizeSet, AlwaysForwardOnly };
  ForwardClientCert forwardClientCert = ForwardClientCert::Sanitize;
  struct ClientCertDetails {
    bool subject = false;
    bool cert = false;
    bool chain = false;
    bool dns = false;
    bool uri = false;
  };
  ClientCertDetails clientCertDetails;
  NetworkRbacFilters networkRbac;  // the chain's network RBAC, checked before each request
  std::shared_ptr<const AlpnOverride> alpnOverride;  // istio.alpn, when the HCM has it
  bool hasFaultFilter() const;
  bool hasSecurityFilters() const;  // jwt_authn, RBAC, ext_authz or network RBAC
};

struct TcpProxyConfig {
  std::string statPrefix;
  std::string cluster;
  std::vector<WeightedCluster> weightedClusters;
  uint64_t totalWeight = 0;
  Millis idleTimeout{3'600'000};
  std::optional<Millis> maxDownstreamConnectionDuration;  // both sides closed after it
  uint32_t maxConnectAttempts = 1;
  NetworkRbacFilters networkRbac;  // checked before the upstream is dialled
  // envoy.filters.network.ext_authz (gRPC only), checked after the first networkExtAuthzAt
  // network RBAC filters (whose shadow rules select the connections it checks).
  std::shared_ptr<const ExtAuthzConfig> networkExtAuthz;
  size_t networkExtAuthzAt = 0;
};

struct CidrRange {
  std::string address;  // numeric, as given
  uint32_t prefixLen = 0;
  bool contains(std::string_view ip) const;
};

struct FilterChainMatch {
  std::optional<uint32_t> destinationPort;
  std::vector<CidrRange> prefixRanges;
  std::vector<std::string> serverNames;
  std::string transportProtocol;
  std::vector<std::string> applicationProtocols;
  std::vector<CidrRange> sourcePrefixRanges;
  std::vector<uint32_t> sourcePorts;
};

struct FilterChain {
  std::string name;
  FilterChainMatch match;
  std::variant<HttpConnectionManagerConfig, TcpProxyConfig> filter;
  std::shared_ptr<const DownstreamTlsConfig> tls;  // a DownstreamTlsContext: TLS is terminated
};

struct Listener {
  std::string name;
  std::string address;
  uint32_t port = 0;
  bool bindToPort = true;
  bool useOriginalDst = false;
  bool tlsInspector = false;
  bool httpInspector = false;
  bool inbound = false;  // traffic_direction INBOUND: Istio's reporter is "destination"
  std::vector<std::shared_ptr<const FilterChain>> filterChains;
  std::shared_ptr<const FilterChain> defaultFilterChain;
};

enum class HealthStatus { Healthy, Degraded, Unhealthy };

struct Endpoint {
  std::string address;  // IP or, for DNS clusters, a host name
  uint32_t port = 0;
  uint32_t weight = 1;
  HealthStatus health = HealthStatus::Healthy;
  std::string locality;  // region/zone/subzone
  uint32_t localityWeight = 0;  // its LocalityLbEndpoints' load_balancing_weight (0: unset)
  uint32_t priority = 0;
  // DNS clusters: the name `address` was resolved from (empty otherwise, and before resolution).
  std::string hostname;
  bool requiresTls = false;  // matched a TLS transport socket (Cluster::tlsFor says which)
  // The workload behind it (Istio's istio.workload endpoint metadata), for telemetry labels.
  std::shared_ptr<const telemetry::PeerInfo> workload;
  std::string key() const { return address + ":" + std::to_string(port); }
};

enum class ClusterType { Static, StrictDns, LogicalDns, Eds, OriginalDst };
enum class DnsLookupFamily { Auto, V4Only, V6Only, V4Preferred, All };
enum class LbPolicy { RoundRobin, LeastRequest, Random, RingHash, Maglev };

struct CircuitBreakers {
  uint32_t maxConnections = 1024;
  uint32_t maxPendingRequests = 1024;
  uint32_t maxRequests = 1024;
  uint32_t maxRetries = 3;
};

struct OutlierDetectionConfig {
  uint32_t consecutive5xx = 5;
  uint32_t enforcingConsecutive5xx = 100;
  uint32_t consecutiveGatewayFailure = 5;
  uint32_t enforcingConsecutiveGatewayFailure = 0;
  Millis interval{10'000};
  Millis baseEjectionTime{30'000};
  Millis maxEjectionTime{300'000};
  uint32_t maxEjectionPercent = 10;
};

// upstream_connection_options.tcp_keepalive: SO_KEEPALIVE, and the system's value for any
// field unset (TCP_KEEPCNT, TCP_KEEPIDLE and TCP_KEEPINTVL, in seconds).
struct TcpKeepaliveConfig {
  std::optional<uint32_t> probes;
  std::optional<uint32_t> timeSeconds;
  std::optional<uint32_t> intervalSeconds;
};

struct Cluster {
  std::string name;
  ClusterType type = ClusterType::Static;
  LbPolicy lbPolicy = LbPolicy::RoundRobin;
  Millis connectTimeout{5000};
  CircuitBreakers circuitBreakers;
  std::optional<OutlierDetectionConfig> outlierDetection;
  uint32_t healthyPanicThresholdPercent = 50;
  uint32_t overprovisioningFactor = 140;  // percent, ClusterLoadAssignment.policy
  bool localityWeightedLb = false;        // common_lb_config.locality_weighted_lb_config
  Millis dnsRefreshRate{5000};            // STRICT_DNS / LOGICAL_DNS
  DnsLookupFamily dnsLookupFamily = DnsLookupFamily::Auto;
  uint64_t ringHashMinSize = 1024;
  uint64_t ringHashMaxSize = 8 * 1024 * 1024;
  uint32_t leastRequestChoiceCount = 2;
  uint32_t maxRequestsPerConnection = 0;  // 0: unlimited
  // common_http_protocol_options: a pooled HTTP/1.1 connection idle this long is closed
  // (Envoy's default 1 h; 0: never); one older than max_connection_duration is not reused.
  Millis poolIdleTimeout{3'600'000};
  std::optional<Millis> maxConnectionDuration;
  std::optional<TcpKeepaliveConfig> tcpKeepalive;  // every upstream socket, HTTP and TCP
  std::optional<Http2Options> http2;      // set: endpoints speak h2c, one multiplexed connection each
  // HttpProtocolOptions' use_downstream_protocol_config (each request goes up with its client's
  // protocol: HTTP/2 or HTTP/1.1) or auto_config (TLS only: ALPN offers h2 and http/1.1, the
  // server chooses); `http2` stays unset and `selectableHttp2` configures the HTTP/2 side.
  enum class ProtocolSelection { Explicit, Downstream, Alpn };
  ProtocolSelection protocolSelection = ProtocolSelection::Explicit;
  Http2Options selectableHttp2;
  // HTTP/1.1 endpoints: http_protocol_options.enable_trailers (request trailers written in the
  // last chunk, response trailers read); Envoy drops HTTP/1 trailers without it.
  bool http1Trailers = false;
  bool originalDstUseHttpHeader = false;
  std::string originalDstHttpHeader = "x-envoy-original-dst-host";
  std::vector<Endpoint> endpoints;  // every priority; Endpoint::priority says which
  // The service it reaches (istio.services metadata, else the cluster name), for telemetry.
  telemetry::DestinationService service;
  // UpstreamTlsContext of transport_socket, and of the transport_socket_matches entry of each
  // endpoint (by key) that matched one (null there: plain TCP).
  std::shared_ptr<const UpstreamTlsConfig> tls;
  std::map<std::string, std::shared_ptr<const UpstreamTlsConfig>, std::less<>> endpointTls;
  // istio.alpn applies (metadata istio.alpn_override is not "false": Istio sets that for a
  // DestinationRule's SIMPLE and MUTUAL TLS, whose ALPN is the user's).
  bool istioAlpnOverride = true;
  // The TLS config to reach `e` with, null for plain TCP (tls_context.cpp).
  std::shared_ptr<const UpstreamTlsConfig> tlsFor(const Endpoint& e) const;
};

struct RuntimeConfig {
  std::map<std::string, std::shared_ptr<const Listener>, std::less<>> listeners;
  std::map<std::string, std::shared_ptr<const RouteConfig>, std::less<>> routes;
  std::map<std::string, std::shared_ptr<const Cluster>, std::less<>> clusters;
};

}  // namespace mesh::proxy::dataplane
