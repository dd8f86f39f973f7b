#include "proxy/xds/ads_client.h"

#include <random>

#include <grpcpp/grpcpp.h>

#include "core/log.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace mesh::proxy {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

AdsClient::AdsClient(AdsClientOptions options, envoy::config::core::v3::Node node, ConfigConsumer& consumer)
    : options_(std::move(options)), state_(std::move(node), consumer, options_.state) {}

AdsClient::~AdsClient() { stop(); }

void AdsClient::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void AdsClient::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool AdsClient::sleepFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

template <bool Delta>
std::pair<int, std::string> AdsClient::runStream(bool& answered) {
  using Request = std::conditional_t<Delta, DeltaDiscoveryRequest, DiscoveryRequest>;
  using Response = std::conditional_t<Delta, DeltaDiscoveryResponse, DiscoveryResponse>;
  // A fresh channel per attempt: its own reconnect backoff must not add to ours.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.maxReceiveMessageBytes);
  auto channel = grpc::CreateCustomChannel(options_.address, grpc::InsecureChannelCredentials(), args);
  auto stub = AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return {grpc::StatusCode::CANCELLED, "stopping"};
    context_ = &context;
  }
  auto stream = [&] {
    if constexpr (Delta) return stub->DeltaAggregatedResources(&context);
    else return stub->StreamAggregatedResources(&context);
  }();
  auto send = [&stream](const AdsRequests& out) {
    const auto& requests = [&out]() -> const std::vector<Request>& {
      if constexpr (Delta) return out.delta;
      else return out.sotw;
    }();
    for (const Request& r : requests) stream->Write(r);
  };
  {
    std::lock_guard lock(stateMu_);
    send(state_.startStream(Delta));
  }
  // The initial fetch timeouts are checked beside the blocking reads.
  std::mutex tickMu;
  std::condition_variable tickCv;
  bool readerDone = false;
  std::thread ticker([&] {
    std::unique_lock lock(tickMu);
    while (!tickCv.wait_for(lock, options_.tickInterval, [&] { return readerDone; })) {
      std::lock_guard stateLock(stateMu_);
      send(state_.onTick(std::chrono::steady_clock::now()));
    }
  });
  Response response;
  while (stream->Read(&response)) {
    if (!answered) log::info("xds", "connected to {} ({})", options_.address, Delta ? "delta" : "state of the world");
    answered = true;
    std::lock_guard lock(stateMu_);
    if constexpr (Delta) send(state_.onDeltaResponse(response));
    else send(state_.onResponse(response));
  }
  {
    std::lock_guard lock(tickMu);
    readerDone = true;
  }
  tickCv.notify_all();
  ticker.join();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mu_);
    context_ = nullptr;
  }
  {
    std::lock_guard lock(stateMu_);
    state_.streamEnded();
  }
  return {static_cast<int>(status.error_code()), status.error_message()};
}

void AdsClient::run() {
  bool delta = options_.tryDelta;
  std::mt19937_64 rng(std::random_device{}());
  int failures = 0;
  bool quiet = false;  // one warning per outage, not one per attempt
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    bool answered = false;
    auto [code, message] = delta ? runStream<true>(answered) : runStream<false>(answered);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (delta && code == grpc::StatusCode::UNIMPLEMENTED) {
      log::info("xds", "{} does not serve delta xDS; using state of the world", options_.address);
      delta = false;
      continue;
    }
    if (answered) {
      failures = 0;
      quiet = false;
    }
    if (!quiet) log::warn("xds", "stream to {} ended: {} ({}); keeping the current config", options_.address, message, code);
    else log::debug("xds", "stream to {} ended: {} ({})", options_.address, message, code);
    quiet = true;
    // Jittered exponential backoff: a random delay in [d/2, d], d doubling up to the maximum.
    auto ceiling = options_.backoffBase * (int64_t{1} << std::min(failures, 16));
    ceiling = std::min<std::chrono::milliseconds>(ceiling, options_.backoffMax);
    ++failures;
    std::uniform_int_distribution<int64_t> pick(ceiling.count() / 2, ceiling.count());
    if (!sleepFor(std::chrono::milliseconds(pick(rng)))) return;
  }
}

}  // namespace mesh::proxy
