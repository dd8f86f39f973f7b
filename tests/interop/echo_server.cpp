// echo_server: the meshtest.echo.Echo service for interop tests. Each reply names the server
// (--name), so a client can count how a route split traffic between subsets; calls can be
// failed or delayed on purpose to exercise retries and faults. Prints `listening on PORT` on
// stdout once serving; SIGTERM or SIGINT stop it gracefully.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "echo.grpc.pb.h"

namespace {

using meshtest::echo::EchoReply;
using meshtest::echo::EchoRequest;

// Which calls fail is decided from the call's number alone, so every run fails the same calls.
struct FailurePlan {
  std::uint64_t failFirst = 0;
  double failRate = 0;

  // Call n (from 1) fails if it is among the first N, or where floor(n * rate) steps up:
  // that fails exactly `rate` of the calls, evenly spread (0.5 fails calls 2, 4, 6...).
  bool fails(std::uint64_t n) const {
    if (n <= failFirst) return true;
    auto floorOf = [this](std::uint64_t k) {
      return static_cast<std::uint64_t>(static_cast<double>(k) * failRate);
    };
    return floorOf(n) > floorOf(n - 1);
  }
};

class EchoService final : public meshtest::echo::Echo::Service {
 public:
  EchoService(std::string name, FailurePlan plan, std::chrono::milliseconds delay)
      : name_(std::move(name)), plan_(plan), delay_(delay) {}

  grpc::Status Call(grpc::ServerContext* ctx, const EchoRequest* req, EchoReply* reply) override {
    const std::uint64_t n = ++calls_;
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (plan_.fails(n)) {
      return {grpc::StatusCode::UNAVAILABLE, fmt::format("{} failed call {} on purpose", name_, n)};
    }
    reply->set_server(name_);
    reply->set_counter(n);
    reply->set_message(req->message());
    auto& seen = *reply->mutable_metadata();
    for (const auto& [k, v] : ctx->client_metadata()) {
      std::string key(k.data(), k.size());
      if (key.ends_with("-bin")) continue;  // binary values are not valid proto3 strings
      std::string& out = seen[key];
      if (!out.empty()) out += ',';  // repeated keys joined as HTTP joins them
      out.append(v.data(), v.size());
    }
    return grpc::Status::OK;
  }

  grpc::Status Chat(grpc::ServerContext* /*ctx*/,
                    grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) override {
    EchoRequest req;
    std::uint64_t n = 0;
    while (stream->Read(&req)) {
      EchoReply reply;
      reply.set_server(name_);
      reply.set_counter(++n);
      reply.set_message(req.message());
      if (!stream->Write(reply)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const std::string name_;
  const FailurePlan plan_;
  const std::chrono::milliseconds delay_;
  std::atomic<std::uint64_t> calls_{0};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("echo_server answers meshtest.echo.Echo/Call and /Chat for interop tests.", "echo_server");
  int port = 0;
  std::string name = "echo";
  FailurePlan plan;
  int delayMs = 0;
  app.add_option("--port", port, "port on 127.0.0.1; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  app.add_option("--name", name, "server name put in every reply, e.g. payments-v1");
  app.add_option("--fail-rate", plan.failRate,
                 "fraction of calls answered UNAVAILABLE, evenly spread")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-first", plan.failFirst, "answer the first N calls UNAVAILABLE");
  app.add_option("--delay-ms", delayMs, "wait this long before answering")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before gRPC starts its threads, so only sigwait() below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  EchoService service(name, plan, std::chrono::milliseconds(delayMs));
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port would bind silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int selected = 0;
  builder.AddListeningPort(fmt::format("127.0.0.1:{}", port), grpc::InsecureServerCredentials(),
                           &selected);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected == 0) {
    fmt::print(stderr, "echo_server: cannot listen on 127.0.0.1:{}\n", port);
    return 1;
  }
  fmt::print("listening on {}\n", selected);
  std::fflush(stdout);  // tests read this line through a pipe

  int sig = 0;
  sigwait(&stop, &sig);
  // In-flight calls get a moment to finish; new ones are refused.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
