// DownstreamTlsContext / UpstreamTlsContext (a transport_socket's typed_config) → the compiled
// TLS config of tls_config.h: PEM from inline_bytes, inline_string or a file (≤ 1 MiB, read
// now), SDS secrets by name, validation and SAN matchers, ALPN, TLS parameters. Errors name
// the resource and field (the NACK's detail). Internal to dataplane; xDS client's thread.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "envoy/config/core/v3/base.pb.h"
#include "proxy/dataplane/tls_config.h"

namespace mesh::proxy::dataplane::detail {

// Whether a transport socket is TLS (by name or type), raw_buffer, or something else.
enum class TransportSocketKind { Raw, Tls, Unknown };
TransportSocketKind transportSocketKind(const envoy::config::core::v3::TransportSocket& ts, bool downstream);

Result<std::shared_ptr<const DownstreamTlsConfig>> compileDownstreamTls(
    const envoy::config::core::v3::TransportSocket& ts, const std::string& where);
Result<std::shared_ptr<const UpstreamTlsConfig>> compileUpstreamTls(const envoy::config::core::v3::TransportSocket& ts,
                                                                    const std::string& where);

}  // namespace mesh::proxy::dataplane::detail
