// AdsClient: meshproxy's ADS stream to meshd over gRPC. Tries delta xDS first and falls back to
// state of the world when the server answers UNIMPLEMENTED; reconnects with jittered exponential
// backoff while the consumer keeps serving its last snapshot; the protocol itself is AdsState's.
// start() and stop() are called from main's thread; view(), stats() and initialized() from any
// thread (the admin endpoint reads them). The stream runs on a thread of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proxy/xds/ads_state.h"

namespace grpc {
class ClientContext;
}

namespace mesh::proxy {

struct AdsClientOptions {
  std::string address;          // meshd's xDS "HOST:PORT", plaintext
  bool tryDelta = true;         // start with delta xDS
  std::chrono::milliseconds backoffBase{500};
  std::chrono::milliseconds backoffMax{15000};
  std::chrono::milliseconds tickInterval{1000};  // how often the initial fetch timeouts are checked
  int maxReceiveMessageBytes = 64 << 20;        // one response's bound; gRPC's default is 4 MiB
  AdsState::Options state;
};

class AdsClient {
 public:
  AdsClient(AdsClientOptions options, envoy::config::core::v3::Node node, ConfigConsumer& consumer);
  ~AdsClient();  // stop()
  AdsClient(const AdsClient&) = delete;
  AdsClient& operator=(const AdsClient&) = delete;

  void start();
  // Cancels the stream and joins its thread. Idempotent. The consumer keeps its snapshot.
  void stop();

  XdsView view() const { return state_.view(); }
  XdsStats stats() const { return state_.stats(); }
  bool initialized() const { return state_.initialized(); }
  const envoy::config::core::v3::Node& node() const { return state_.node(); }
  const AdsClientOptions& options() const { return options_; }

 private:
  void run();
  // One stream from start to end: its final status, and whether any response arrived.
  template <bool Delta>
  std::pair<int, std::string> runStream(bool& answered);
  bool sleepFor(std::chrono::milliseconds delay);  // false when stopping

  const AdsClientOptions options_;
  AdsState state_;
  std::mutex stateMu_;  // the stream's reader and its ticker both drive state_ and write

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // of the live stream, for stop() to cancel
  std::thread thread_;
};

}  // namespace mesh::proxy
