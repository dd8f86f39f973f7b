// AdsStream: one simulated Envoy's ADS stream over gRPC's callback API with raw byte buffers
// (a generic stub), so responses are read straight from gRPC's slices without building
// protobuf objects. Reads one response at a time, feeds it to its SimProxy and writes the
// ACKs and subscriptions it asks for, at most one write in flight. Callbacks run on gRPC's
// threads; cancel() may be called from any thread.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "bench/xds_load/sim_proxy.h"
#include "bench/xds_load/sync_tracker.h"

namespace mesh::bench {

class AdsStream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `done` runs once gRPC is finished with the stream; the owner may then destroy it.
  AdsStream(int index, SimProxy proxy, bool delta, SyncTracker& tracker, std::function<void()> done);

  void start(grpc::GenericStub& stub);
  void cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  void send(std::vector<std::string> requests);
  void subscribed(const SimProxy::Step& step);

  const int index_;
  SimProxy proxy_;
  const bool delta_;
  SyncTracker& tracker_;
  std::function<void()> done_;
  grpc::ClientContext context_;
  grpc::ByteBuffer in_;
  bool wasReady_ = false;
  std::mutex mu_;                     // guards the write queue
  std::deque<grpc::ByteBuffer> out_;  // front() is in flight while writing_
  bool writing_ = false;
};

}  // namespace mesh::bench
