// What meshd knows about one connected proxy's sync state, per xDS type: what was sent
// (version, nonce), what the proxy last ACKed, and its last NACK. Read by proxy-status, the
// debug API and `wait`; a plain value copied out of the ADS server under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesh::server {

struct TypeSyncStatus {
  std::string sentVersion;
  std::string sentNonce;
  std::string ackedVersion;
  std::string ackedNonce;
  std::string nackMessage;  // the last rejection's error_detail; "" once a later ACK arrives
  // The newest config generation whose config for this type the last response carries: a
  // generation that changes nothing for this proxy advances it without a response. `wait`
  // compares snapshotAcked (the same, once ACKed; a NACK holds it back) with an object's
  // generation.
  uint64_t snapshotSent = 0;
  uint64_t snapshotAcked = 0;
  size_t resourcesSent = 0;
};

// What a proxy subscribes to for one type on its stream: everything (wildcard) and/or names.
struct TypeSubscription {
  bool wildcard = false;
  std::vector<std::string> names;  // sorted
};

struct ProxyStatus {
  std::string id;            // node id
  std::string name;          // "pod.namespace"
  std::string clusterId;
  std::string istioVersion;  // node metadata ISTIO_VERSION, or the user agent's version
  std::string streamKind;    // "sotw" or "delta"
  std::chrono::system_clock::time_point connectedAt;
  std::map<std::string, TypeSyncStatus> types;  // by type URL
};

}  // namespace mesh::server
