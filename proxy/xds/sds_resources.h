// SDS on the ADS stream, the proxy's side: which Secret names the held listeners and clusters
// fetch from meshd (tls_certificate_sds_secret_configs and validation_context_sds_secret_config,
// combined_validation_context included, whose sds_config is ADS), and the checks a received
// Secret must pass. "default" and "ROOTCA" are never fetched: meshproxy's own agent makes them
// (Istio's pilot-agent serves them to Envoy). Pure functions; the xDS client's thread calls them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"

namespace mesh::proxy {

// Names the local certificate agent serves (Istio's workload SDS names).
bool isAgentSecretName(std::string_view name);

// The SDS names fetched over ADS by the cluster's transport sockets (transport_socket and
// transport_socket_matches) or by the listener's filter chains (default_filter_chain too),
// sorted and unique, without the agent's names. TLS contexts that do not parse are skipped
// (validation reports them).
std::vector<std::string> adsSecretNames(const envoy::config::cluster::v3::Cluster& cluster);
std::vector<std::string> adsSecretNames(const envoy::config::listener::v3::Listener& listener);

// A Secret meshproxy can use: named, a tls_certificate (chain and key) or a validation_context
// (trusted_ca), with the PEM inline (meshd never sends file names), each under 1 MiB.
Result<void> validateSecret(const envoy::extensions::transport_sockets::tls::v3::Secret& secret);

// What Envoy's admin shows of a Secret: a private key or password given inline becomes the
// inline_string "[redacted]" (file names stay), as do generic secrets and session ticket keys.
void redactSecret(envoy::extensions::transport_sockets::tls::v3::Secret& secret);

}  // namespace mesh::proxy
