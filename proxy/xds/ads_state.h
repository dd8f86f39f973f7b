// AdsState: the xDS protocol state of meshproxy's ADS client, apart from gRPC so tests drive it
// directly. It turns responses (state of the world or delta) into candidate XdsSnapshots for the
// ConfigConsumer and into the requests to send back: ACK or NACK (error_detail with the reason)
// per response, and subscription changes in Envoy's order CDS → EDS → LDS → RDS → SDS (the
// Secrets held listeners and clusters fetch over ADS; they do not hold warming). Clusters warm
// until their ClusterLoadAssignment arrives and listeners until their RouteConfigurations do,
// as Envoy's do; LDS is first requested once the first clusters are warm. A rejected response
// leaves the last good snapshot in place. What it holds outlives a stream, so a reconnect
// resumes with the versions it has (initial_resource_versions in delta).
// The client's stream thread calls the mutating methods; view(), stats() and initialized() may
// be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy {

namespace type_url {
inline constexpr std::string_view kCluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kListener = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRoute = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kSecret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
}  // namespace type_url

// Envoy's request order, and the types the client subscribes to (SDS for the Secrets that
// listeners and clusters name, once they arrive).
inline constexpr std::string_view kAdsTypes[] = {type_url::kCluster, type_url::kEndpoint, type_url::kListener,
                                                 type_url::kRoute, type_url::kSecret};

// "cds", "eds", "lds", "rds", "sds" for the ADS types; the type URL otherwise.
std::string_view shortTypeName(std::string_view typeUrl);

struct XdsTypeStats {
  uint64_t updateAttempt = 0;   // responses received
  uint64_t updateSuccess = 0;   // accepted (ACKed)
  uint64_t updateRejected = 0;  // NACKed
  std::string version;          // version_info (delta: system_version_info) last accepted
  std::string lastNack;         // the last NACK's error_detail message
  std::chrono::system_clock::time_point lastUpdated{};
};

struct XdsStats {
  std::map<std::string, XdsTypeStats, std::less<>> types;  // by type URL: the ADS types
  bool connected = false;         // a stream is up and has answered
  std::string streamKind;         // "delta" or "sotw": the current or last stream's
  uint64_t streamsStarted = 0;
  uint64_t streamsEnded = 0;
  std::string lastNack;           // "<type URL>: <message>" of the newest NACK
  size_t warmingClusters = 0;
  size_t warmingListeners = 0;
  bool initialized = false;       // the first CDS and LDS are applied and warm
};

// What the proxy holds: the applied snapshot, and the clusters and listeners still warming.
struct XdsView {
  std::shared_ptr<const XdsSnapshot> active;   // never null
  std::shared_ptr<const XdsSnapshot> warming;  // only clusters and listeners; never null
};

struct AdsRequests {
  std::vector<envoy::service::discovery::v3::DiscoveryRequest> sotw;
  std::vector<envoy::service::discovery::v3::DeltaDiscoveryRequest> delta;
  bool empty() const { return sotw.empty() && delta.empty(); }
};

class AdsState {
 public:
  struct Options {
    // Envoy's initial_fetch_timeout: after this, clusters (listeners) still warming are used
    // without their EDS (RDS), so one missing resource cannot hold the proxy unready forever.
    std::chrono::milliseconds initialFetchTimeout{15000};
  };

  AdsState(envoy::config::core::v3::Node node, ConfigConsumer& consumer, Options options);

  // A new stream: forget its nonces; the requests that (re)subscribe to what is held.
  AdsRequests startStream(bool delta);
  AdsRequests onResponse(const envoy::service::discovery::v3::DiscoveryResponse& response);
  AdsRequests onDeltaResponse(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);
  // Initial fetch timeouts; call about once a second while a stream is up.
  AdsRequests onTick(std::chrono::steady_clock::time_point now);
  void streamEnded();

  XdsView view() const;
  XdsStats stats() const;
  bool initialized() const;
  const envoy::config::core::v3::Node& node() const { return node_; }

 private:
  struct Subscription {
    std::set<std::string> names;  // EDS, RDS and SDS; CDS and LDS are wildcard
    bool requested = false;       // on this stream
    std::string nonce;            // of the last response of this type on this stream
  };
  // One response's resources, parsed and checked, before they meet the held state.
  struct Incoming;
  struct Candidate;

  AdsRequests handle(const std::string& typeUrl, const std::string& nonce, const std::string& version,
                     Incoming incoming);
  void merge(const std::string& typeUrl, Incoming& incoming, Candidate& candidate) const;
  AdsRequests reject(const std::string& typeUrl, const std::string& nonce, const std::string& message);
  void promoteWarm(Candidate& candidate, bool all) const;
  void followUps(AdsRequests& out);
  void addRequest(AdsRequests& out, std::string_view typeUrl, const std::set<std::string>* added,
                  const std::set<std::string>* removed);
  void addAck(AdsRequests& out, const std::string& typeUrl, const std::string& nonce, const std::string* error);
  void publish();
  std::set<std::string> wantedEndpoints(const XdsSnapshot& active, const XdsSnapshot& warming) const;
  std::set<std::string> wantedRoutes(const XdsSnapshot& active, const XdsSnapshot& warming) const;
  std::set<std::string> wantedSecrets(const XdsSnapshot& active, const XdsSnapshot& warming) const;
  std::map<std::string, std::string> heldVersions(std::string_view typeUrl) const;

  const envoy::config::core::v3::Node node_;
  ConfigConsumer& consumer_;
  const Options options_;

  // The stream thread's state.
  std::shared_ptr<const XdsSnapshot> active_;
  std::shared_ptr<const XdsSnapshot> warming_;
  std::map<std::string, Subscription, std::less<>> subs_;
  bool delta_ = false;
  bool nodeSent_ = false;
  bool cdsAccepted_ = false;
  bool ldsRequested_ = false;
  bool ldsAccepted_ = false;
  bool initialized_ = false;
  std::chrono::steady_clock::time_point cdsAcceptedAt_{};
  std::chrono::steady_clock::time_point ldsAcceptedAt_{};
  XdsStats stats_;

  // What other threads read: copies published after each change.
  mutable std::mutex mu_;
  XdsView publishedView_;
  XdsStats publishedStats_;
};

}  // namespace mesh::proxy
