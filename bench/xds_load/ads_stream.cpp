#include "bench/xds_load/ads_stream.h"

#include <grpcpp/support/proto_buffer_reader.h>

namespace mesh::bench {
namespace {

constexpr const char* kSotwMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
constexpr const char* kDeltaMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

}  // namespace

AdsStream::AdsStream(int index, SimProxy proxy, bool delta, SyncTracker& tracker, std::function<void()> done)
    : index_(index), proxy_(std::move(proxy)), delta_(delta), tracker_(tracker), done_(std::move(done)) {}

void AdsStream::start(grpc::GenericStub& stub) {
  stub.PrepareBidiStreamingCall(&context_, delta_ ? kDeltaMethod : kSotwMethod, grpc::StubOptions(), this);
  SimProxy::Step step = proxy_.start();
  subscribed(step);
  send(std::move(step.requests));
  StartRead(&in_);
  StartCall();
  tracker_.streamOpened();
}

void AdsStream::subscribed(const SimProxy::Step& step) {
  for (XdsType t : step.subscribed) tracker_.subscribed(t);
}

void AdsStream::send(std::vector<std::string> requests) {
  const grpc::ByteBuffer* next = nullptr;
  {
    std::lock_guard lock(mu_);
    for (std::string& r : requests) {
      // The slice takes the string over: an EDS request naming thousands of clusters is not copied.
      auto* owned = new std::string(std::move(r));
      grpc::Slice slice(owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
      out_.emplace_back(&slice, 1);
    }
    if (!writing_ && !out_.empty()) {
      writing_ = true;
      next = &out_.front();  // stays put until OnWriteDone pops it
    }
  }
  if (next) StartWrite(next);  // outside the lock, in case gRPC reacts inline
}

void AdsStream::OnWriteDone(bool ok) {
  const grpc::ByteBuffer* next = nullptr;
  {
    std::lock_guard lock(mu_);
    out_.pop_front();
    if (!ok) out_.clear();  // the stream is broken; OnDone follows
    if (out_.empty()) writing_ = false;
    else next = &out_.front();
  }
  if (next) StartWrite(next);
}

void AdsStream::OnReadDone(bool ok) {
  if (!ok) return;  // the server ended the stream; OnDone reports how
  size_t bytes = in_.Length();
  Response response;
  bool decoded;
  {
    grpc::ProtoBufferReader reader(&in_);
    decoded = decodeResponse(reader, delta_, response);
  }
  in_.Clear();
  if (!decoded) {
    tracker_.decodeFailed(index_, bytes);
    cancel();
    return;
  }
  SimProxy::Accepted a = proxy_.onResponse(response);
  subscribed(a);
  send(std::move(a.requests));
  tracker_.accepted(a.type, a.lastVersion, a.version, bytes, response.resourceCount);
  if (!wasReady_ && proxy_.ready()) {
    wasReady_ = true;
    tracker_.proxyReady();
  }
  StartRead(&in_);
}

void AdsStream::OnDone(const grpc::Status& status) {
  tracker_.streamClosed(index_, status.error_code(), status.error_message());
  done_();
}

}  // namespace mesh::bench
