// The tls_inspector listener filter's parser: SNI and the offered ALPN list from the first
// bytes of a connection (a TLS ClientHello, possibly spread over several records), without
// consuming them. Pure and bounded: never reads past its input. Used by connection.cpp on
// worker threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::proxy::dataplane {

// The most a ClientHello may take before the inspector gives up (Envoy's default is 16 KiB).
inline constexpr size_t kMaxClientHelloBytes = 16 * 1024;

struct ClientHello {
  enum class Status {
    Done,       // a whole ClientHello: serverName and alpn are set
    NeedMore,   // a valid prefix of one
    NotTls,     // not a TLS handshake record
    Malformed,  // TLS framing, but not a ClientHello this parser accepts (or too large)
  };
  Status status = Status::NeedMore;
  std::string serverName;         // the host_name of server_name, lower case; "" without SNI
  std::vector<std::string> alpn;  // application_layer_protocol_negotiation, in offer order
};

ClientHello parseClientHello(std::string_view bytes);

}  // namespace mesh::proxy::dataplane
