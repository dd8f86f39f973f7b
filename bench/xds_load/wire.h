// The protobuf wire format, as far as the xDS load client needs it: encoding ADS requests by
// hand (so an ACK carrying thousands of resource names is one memcpy of a pre-encoded blob)
// and decoding responses straight from gRPC's byte buffer, reading only the fields a
// simulated Envoy acts on (cluster EDS names, listener RDS names) and skipping the rest.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace google::protobuf::io {
class ZeroCopyInputStream;
}

namespace mesh::bench {

// xDS types the client knows, in Envoy's subscription order.
enum class XdsType { Cluster, Endpoint, Listener, Route, Other };
inline constexpr int kTypeCount = 5;
XdsType typeOf(std::string_view typeUrl);
std::string_view typeUrl(XdsType type);
std::string_view shortName(XdsType type);  // "cds", "eds", "lds", "rds", "other"

// Encoding: append one field.
void putVarintField(std::string& out, int field, uint64_t value);
void putBytesField(std::string& out, int field, std::string_view bytes);

// What a (Delta)DiscoveryResponse says, with the parts of its resources a simulated Envoy
// needs. `version` is version_info (SotW) or system_version_info (delta).
struct Response {
  std::string typeUrl;
  std::string version;
  std::string nonce;
  size_t resourceCount = 0;
  std::vector<std::string> removed;  // delta: removed_resources
  // Clusters: (cluster name, EDS service name or "" when the cluster is not EDS).
  std::vector<std::pair<std::string, std::string>> clusters;
  // Listeners: (listener name, RDS route config names of its HTTP connection managers).
  std::vector<std::pair<std::string, std::vector<std::string>>> listeners;
  // Delta: hash of every resource's name and version plus the removed names; equal for
  // equal updates, so proxies receiving the same update can share the derived state.
  uint64_t fingerprint = 0;
};

// Decodes a serialized response; false when the bytes are not a valid response.
bool decodeResponse(google::protobuf::io::ZeroCopyInputStream& in, bool delta, Response& out);

}  // namespace mesh::bench
