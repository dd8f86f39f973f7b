// Rules several Istio kinds share, following istio/istio pkg/config/validation: label maps,
// workload selectors and policy targets, exportTo, protocols, header names, regexes, TLS
// settings, traffic policies and destinations. Each reports through the ValidationContext at
// the node concerned. Stateless; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/validation/context.h"

namespace mesh::core::validation {

// --- selectors.cpp ---------------------------------------------------------------------------
// Label keys and values as Kubernetes requires them (Istio's labels.Instance.Validate).
void checkLabels(const Node* labels, const std::string& path, ValidationContext& ctx);
// A workload selector: `labelsField` is "matchLabels" (type.v1beta1) or "labels" (networking).
// No wildcards, no empty keys; no labels at all selects every workload (a warning).
void checkWorkloadSelector(const Node* selector, std::string_view labelsField, const std::string& path,
                           ValidationContext& ctx);
// selector, targetRef and targetRefs of security and telemetry policies: at most one of them,
// references to Service, ServiceEntry or a Gateway API Gateway in the same namespace.
void checkPolicyTargets(const Node* spec, ValidationContext& ctx);
// exportTo: ".", "*", a namespace, or "~" for ServiceEntry; no duplicates, "*" alone.
void checkExportTo(const Node* spec, std::string_view ns, bool serviceEntry, bool selectorDestinationRule,
                   ValidationContext& ctx);

// --- protocols.cpp ---------------------------------------------------------------------------
enum class Protocol { Unsupported, Http, Https, Http2, Grpc, GrpcWeb, HttpProxy, Tcp, Tls, Udp, Mongo, Redis, Mysql };
// Istio's protocol.Parse: case-insensitive; "" is Unsupported.
Protocol parseProtocol(std::string_view name);
// Istio's spelling of a protocol: "HTTP", "GRPC-Web", "HTTP_PROXY", "UnsupportedProtocol".
std::string_view protocolName(Protocol p);
bool isHttp(Protocol p);  // HTTP, HTTP2, GRPC, GRPC-WEB, HTTP_PROXY
bool isTls(Protocol p);   // HTTPS, TLS
// Reports an unsupported port protocol on `node` ("" is allowed: protocol sniffing).
void checkProtocol(const Node* node, const std::string& path, ValidationContext& ctx);
// Istio's ValidateHTTPHeaderName: [-_A-Za-z0-9]+. "" when valid.
std::string checkHeaderName(std::string_view name);
// Header values Envoy accepts: no control characters, '%' only in %VAR% or %%.
std::string checkHeaderValue(std::string_view value);
bool isHttpMethod(std::string_view method);
bool isGrpcStatus(std::string_view status);
// One retryOn entry: an Envoy retry policy or an HTTP status code. "" when valid.
std::string checkRetryOnPolicy(std::string_view policy);
// RE2 syntax (Istio and Envoy both use RE2), at most 1024 characters. "" or the RE2 error.
std::string checkRegex(std::string_view pattern);
// Reports a regex that RE2 rejects, on `node` when it is a string.
void checkRegexNode(const Node* node, const std::string& path, ValidationContext& ctx);
// Istio's ValidatePortName: a DNS label.
void checkPortName(const Node* node, const std::string& path, ValidationContext& ctx);

// --- tls.cpp ---------------------------------------------------------------------------------
// Gateway and Sidecar ingress TLS (validateTLSOptions): certificates per mode.
void checkServerTls(const Node* tls, const std::string& path, ValidationContext& ctx);
// DestinationRule TLS (agent.ValidateTLS).
void checkClientTls(const Node* tls, const std::string& path, ValidationContext& ctx);

// --- traffic_policy.cpp ----------------------------------------------------------------------
void checkTrafficPolicy(const Node* policy, const std::string& path, ValidationContext& ctx);
void checkConnectionPool(const Node* pool, const std::string& path, ValidationContext& ctx);
// A Destination of a route or mirror: host (not "*"), subset name, port.
void checkDestination(const Node* destination, const std::string& path, ValidationContext& ctx);
// Percent (networking.Percent): 0, or 0.0001..100.
void checkPercent(const Node* percent, const std::string& path, ValidationContext& ctx);
// An integer percentage 0..100 on `node`.
void checkPercentInt(const Node* node, const std::string& path, ValidationContext& ctx);

// --- workload_entry.cpp ----------------------------------------------------------------------
// A WorkloadEntry spec or ServiceEntry endpoint (validateWorkloadEntry): address (IP, unix://
// path, or an FQDN where `allowFqdn`), port names and numbers, labels. `servicePorts`, when
// given, are the port names the endpoint's ports must refer to.
void checkWorkloadEntry(const Node* we, const std::string& path, const std::vector<std::string_view>* servicePorts,
                        bool allowFqdn, ValidationContext& ctx);
void checkUnixAddress(const Node* node, std::string_view address, const std::string& path, ValidationContext& ctx);

// Istio's VirtualService rule shadowing for spec.<section> (http, tcp or tls): a second
// catch-all rule, or a rule whose every match repeats an earlier one, can never match
// (IST0130); a single repeated match has no effect (IST0131). Warnings, as in Istio.
void checkUnreachableRules(const Node* spec, std::string_view section, ValidationContext& ctx);

}  // namespace mesh::core::validation
