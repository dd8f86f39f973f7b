// http2_protocol_options → Http2Options, for HTTP connection managers (downstream) and clusters
// (upstream, directly or through typed_extension_protocol_options HttpProtocolOptions). Ranges
// are Envoy's: max_concurrent_streams 1..2^31-1, windows 65535..2^31-1.
#include "proxy/dataplane/compile_support.h"

namespace mesh::proxy::dataplane::detail {

Result<Http2Options> compileHttp2Options(const envoy::config::core::v3::Http2ProtocolOptions& o,
                                         const std::string& where) {
  constexpr uint32_t kMaxWindow = 2147483647u;
  Http2Options out;
  if (o.has_max_concurrent_streams()) {
    out.maxConcurrentStreams = o.max_concurrent_streams().value();
    if (out.maxConcurrentStreams == 0 || out.maxConcurrentStreams > kMaxWindow) {
      return invalid(where + ".max_concurrent_streams", "must be in [1, 2147483647]");
    }
  }
  if (o.has_initial_stream_window_size()) {
    out.initialStreamWindowSize = o.initial_stream_window_size().value();
    if (out.initialStreamWindowSize < 65535 || out.initialStreamWindowSize > kMaxWindow) {
      return invalid(where + ".initial_stream_window_size", "must be in [65535, 2147483647]");
    }
  }
  if (o.has_initial_connection_window_size()) {
    out.initialConnectionWindowSize = o.initial_connection_window_size().value();
    if (out.initialConnectionWindowSize < 65535 || out.initialConnectionWindowSize > kMaxWindow) {
      return invalid(where + ".initial_connection_window_size", "must be in [65535, 2147483647]");
    }
  }
  out.allowConnect = o.allow_connect();
  return out;
}

}  // namespace mesh::proxy::dataplane::detail
