// xds_load_client: simulates M Envoy sidecars holding ADS streams to one control plane, for
// bench/xds_scale_bench.py. Prints JSON lines on stdout as things happen (the events are
// listed in bench/README.md); reads commands on stdin: `status`, `quit` (end of input quits).
// main only parses flags, builds the channels and streams, and waits.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "bench/xds_load/ads_stream.h"
#include "envoy/config/core/v3/base.pb.h"

namespace {

using namespace mesh::bench;

struct Flags {
  std::string xdsAddress = "127.0.0.1:15010";
  int proxies = 1000;
  int channels = 8;
  bool delta = false;
  int namespaceCount = 1;
  std::string namespacePattern = "team-{:03d}";
  int connectPerSecond = 0;
  int progressMs = 1000;
  bool exitAfterSync = false;
};

std::string proxyIp(int i) {
  unsigned n = static_cast<unsigned>(i) + 1;
  return fmt::format("10.{}.{}.{}", 100 + (n >> 16 & 0x3f), n >> 8 & 0xff, n & 0xff);
}

// The node an Istio sidecar sends: id TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN, with the
// metadata istiod reads (NAMESPACE, INSTANCE_IPS, CLUSTER_ID, ISTIO_VERSION, LABELS).
std::string nodeFor(int i, const std::string& ns) {
  envoy::config::core::v3::Node node;
  std::string ip = proxyIp(i);
  node.set_id(fmt::format("sidecar~{}~load-{}.{}~{}.svc.cluster.local", ip, i, ns, ns));
  node.set_cluster(fmt::format("xds-load.{}", ns));
  auto& meta = *node.mutable_metadata()->mutable_fields();
  meta["NAMESPACE"].set_string_value(ns);
  meta["INSTANCE_IPS"].set_string_value(ip);
  meta["CLUSTER_ID"].set_string_value("Kubernetes");
  meta["ISTIO_VERSION"].set_string_value("1.20.2");
  meta["SERVICE_ACCOUNT"].set_string_value("xds-load");
  auto& labels = *meta["LABELS"].mutable_struct_value()->mutable_fields();
  labels["app"].set_string_value("xds-load");
  node.set_user_agent_name("envoy");
  node.set_user_agent_version("1.28.0");
  return node.SerializeAsString();
}

// Channels with identical arguments share one TCP connection: a distinct argument per channel
// and a local subchannel pool give each its own (../shared/notes/grpc-on-debian.md).
std::shared_ptr<grpc::Channel> channel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetInt("mesh.xds_load.channel", index);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);  // Envoy has no limit; a full CDS push exceeds 4 MiB
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Simulates Envoy sidecars holding ADS streams; reports when all have ACKed each version.",
               "xds_load_client");
  Flags f;
  app.add_option("--xds", f.xdsAddress, "control plane ADS address (plaintext gRPC)")->capture_default_str();
  app.add_option("--proxies", f.proxies, "simulated sidecars, one ADS stream each")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--channels", f.channels, "gRPC channels (TCP connections) the streams are spread over")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--delta", f.delta, "use DeltaAggregatedResources instead of state of the world");
  app.add_option("--namespace-count", f.namespaceCount, "proxies are spread round-robin over this many namespaces")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--namespace-pattern", f.namespacePattern, "namespace name, {} is the namespace index")
      ->capture_default_str();
  app.add_option("--connect-per-second", f.connectPerSecond, "open streams at this rate (0: all at once)")
      ->capture_default_str();
  app.add_option("--progress-ms", f.progressMs, "print `progress` this often until the initial sync")
      ->capture_default_str();
  app.add_flag("--exit-after-sync", f.exitAfterSync, "quit once every proxy holds its initial config");
  CLI11_PARSE(app, argc, argv);

  // Debian's Abseil checks every mutex for deadlock cycles (../shared/notes/grpc-on-debian.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::vector<std::string> namespaces;
  for (int i = 0; i < f.namespaceCount; ++i) {
    try {
      namespaces.push_back(fmt::format(fmt::runtime(f.namespacePattern), i));
    } catch (const fmt::format_error& e) {
      fmt::print(stderr, "Error: --namespace-pattern {:?}: {}\n", f.namespacePattern, e.what());
      return 64;
    }
  }

  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int c = 0; c < f.channels; ++c) stubs.push_back(std::make_unique<grpc::GenericStub>(channel(f.xdsAddress, c)));

  NameSets sets;
  SyncTracker tracker(f.proxies);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  bool quit = false;
  auto streamDone = [&] {
    std::lock_guard lock(mu);
    --running;
    cv.notify_all();
  };

  emit(fmt::format(R"({{"event":"start","proxies":{},"channels":{},"delta":{},"namespaces":{},"xds":"{}","t_ms":{:.3f}}})",
                   f.proxies, f.channels, f.delta, f.namespaceCount, f.xdsAddress, nowMs()));
  std::vector<std::unique_ptr<AdsStream>> streams;
  streams.reserve(static_cast<size_t>(f.proxies));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < f.proxies; ++i) {
    const std::string& ns = namespaces[static_cast<size_t>(i) % namespaces.size()];
    streams.push_back(std::make_unique<AdsStream>(i, SimProxy(nodeFor(i, ns), f.delta, sets), f.delta, tracker, streamDone));
    {
      std::lock_guard lock(mu);
      ++running;
    }
    streams.back()->start(*stubs[static_cast<size_t>(i % f.channels)]);
    if (f.connectPerSecond > 0)
      std::this_thread::sleep_until(t0 + std::chrono::microseconds(1000000LL * (i + 1) / f.connectPerSecond));
  }

  // Commands on stdin; end of input (the driver went away) quits.
  std::thread input([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "status") emit(tracker.status());
      else if (line == "quit") break;
      else if (!line.empty()) emit(fmt::format(R"({{"event":"error","message":"unknown command {:?}"}})", line));
    }
    std::lock_guard lock(mu);
    quit = true;
    cv.notify_all();
  });
  input.detach();  // may stay blocked in getline; the process exits without it

  {
    std::unique_lock lock(mu);
    while (!quit && running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(f.progressMs > 0 ? f.progressMs : 1000));
      lock.unlock();
      bool synced = tracker.initialSyncDone();
      if (!synced && f.progressMs > 0) emit(tracker.progress());
      lock.lock();
      if (synced && f.exitAfterSync) quit = true;
    }
  }
  emit(tracker.status());
  tracker.stopping();
  for (auto& s : streams) s->cancel();
  std::unique_lock lock(mu);
  cv.wait_for(lock, std::chrono::seconds(10), [&] { return running == 0; });
  if (running > 0) {
    fmt::print(stderr, "xds_load_client: {} streams did not close in 10 s\n", running);
    std::_Exit(1);  // gRPC still holds them; do not destroy them under it
  }
  return 0;
}
