// xds_client: calls meshtest.echo.Echo/Call over ONE channel and counts which server answered
// and with which status. With an `xds:///host:port` target it is gRPC C++'s built-in xDS
// client (bootstrap from GRPC_XDS_BOOTSTRAP, as gRPC reads it), so tests see meshd's routing
// through a real proxyless client; one channel means a weighted split is drawn per call.
// Output (stdout): one JSON object {"servers": {...}, "codes": {...}, ...}; with --duration-s
// also one line per --report-ms window while running, so a test can watch traffic shift.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "echo.grpc.pb.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// gRPC's canonical names, as the Node client prints them too.
const char* codeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  const auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "UNKNOWN";
}

struct Counts {
  std::map<std::string, std::uint64_t> servers;
  std::map<std::string, std::uint64_t> codes;
  std::map<std::string, std::string> errors;  // first message per failing code, for diagnosis
  std::map<std::string, std::string> metadata;  // what the server saw on the last OK call

  void add(const grpc::Status& status, const meshtest::echo::EchoReply& reply) {
    const std::string code = codeName(status.error_code());
    ++codes[code];
    if (status.ok()) {
      ++servers[reply.server()];
      metadata = {reply.metadata().begin(), reply.metadata().end()};
    } else {
      errors.try_emplace(code, status.error_message());
    }
  }

  json toJson() const {
    return {{"servers", servers}, {"codes", codes}, {"errors", errors}, {"metadata", metadata}};
  }
};

double epochSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// One bidirectional stream, request and reply in lock step; prints
// {"chat_replies": N, "code": "OK"} and exits 0 when every message got its reply.
int runChat(meshtest::echo::Echo::Stub& stub, std::uint64_t messages,
            const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  for (const auto& [k, v] : headers) ctx.AddMetadata(k, v);
  auto stream = stub.Chat(&ctx);
  std::uint64_t replies = 0;
  for (std::uint64_t i = 0; i < messages; ++i) {
    meshtest::echo::EchoRequest req;
    req.set_message("message " + std::to_string(i));
    if (!stream->Write(req)) break;
    meshtest::echo::EchoReply reply;
    if (!stream->Read(&reply) || reply.message() != req.message()) break;
    ++replies;
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  json out{{"chat_replies", replies}, {"code", codeName(status.error_code())}};
  std::cout << out.dump() << std::endl;
  return replies == messages && status.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("xds_client calls meshtest.echo.Echo/Call and counts servers and status codes.",
               "xds_client");
  std::string target;
  std::uint64_t calls = 1;
  double durationS = 0;
  std::vector<std::string> headerArgs;
  int deadlineMs = 5000;
  int intervalMs = 0;
  int reportMs = 1000;
  app.add_option("--target", target, "channel target, e.g. xds:///svc.ns.svc.cluster.local:8080")
      ->required();
  auto* callsOpt = app.add_option("--calls", calls, "number of calls to make");
  app.add_option("--duration-s", durationS, "call for this many seconds instead of --calls")
      ->check(CLI::PositiveNumber)
      ->excludes(callsOpt);
  app.add_option("--header", headerArgs, "k=v sent as request metadata (repeatable)")
      ->allow_extra_args(false);  // one k=v per --header, as in the Node client
  app.add_option("--deadline-ms", deadlineMs, "deadline of each call")->check(CLI::PositiveNumber);
  app.add_option("--interval-ms", intervalMs, "pause between calls")->check(CLI::NonNegativeNumber);
  app.add_option("--report-ms", reportMs, "window of the progress lines with --duration-s")
      ->check(CLI::PositiveNumber);
  std::uint64_t chat = 0;
  app.add_option("--chat", chat,
                 "instead of calls: one Chat stream, sending N messages each after the previous reply");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::pair<std::string, std::string>> headers;
  for (const std::string& h : headerArgs) {
    const auto eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "Error: --header wants k=v, got '" << h << "'\n";
      return 64;
    }
    std::string key = h.substr(0, eq);
    // HTTP/2 header names are lowercase; gRPC fails the call on anything else.
    std::ranges::transform(key, key.begin(), [](unsigned char c) { return std::tolower(c); });
    headers.emplace_back(std::move(key), h.substr(eq + 1));
  }

  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = meshtest::echo::Echo::NewStub(channel);

  if (chat > 0) return runChat(*stub, chat, headers, std::chrono::milliseconds(deadlineMs));

  const auto report = std::chrono::milliseconds(reportMs);
  const auto start = Clock::now();
  const auto wallStart = std::chrono::system_clock::now();  // progress lines carry wall time
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(durationS));
  Counts total;
  Counts window;
  auto windowEnd = start + report;
  // Prints every window that ended before `now`, empty ones too (a stall is worth seeing).
  auto flushWindows = [&](Clock::time_point now) {
    while (now >= windowEnd) {
      json line = window.toJson();
      line["start"] = epochSeconds(wallStart + (windowEnd - report - start));
      line["end"] = epochSeconds(wallStart + (windowEnd - start));
      std::cout << line.dump() << std::endl;
      window = {};
      windowEnd += report;
    }
  };

  for (std::uint64_t i = 0; durationS > 0 ? Clock::now() < end : i < calls; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadlineMs));
    for (const auto& [k, v] : headers) ctx.AddMetadata(k, v);
    meshtest::echo::EchoRequest req;
    req.set_message("call " + std::to_string(i));
    meshtest::echo::EchoReply reply;
    const grpc::Status status = stub->Call(&ctx, req, &reply);
    total.add(status, reply);
    if (durationS > 0) {
      flushWindows(Clock::now());  // a call counts in the window in which it finished
      window.add(status, reply);
    }
    if (intervalMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(intervalMs));
  }
  if (durationS > 0 && window.codes.size() > 0) flushWindows(windowEnd);  // the last partial one
  std::cout << total.toJson().dump() << std::endl;
  return 0;
}
