// Where the debug API listens and how it is protected: loopback by default, non-loopback only
// with mTLS or --debug-allow-remote, and mTLS that refuses clients without a certificate.
#include "controlplane/debug/debug_server.h"

#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "controlplane/debug/debug_service.h"

namespace mesh::debug {
namespace {

std::string testdata(std::string_view name) {
  return fmt::format("{}/controlplane/debug/testdata/{}", MESH_SOURCE_DIR, name);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("isLoopbackAddress") {
  CHECK(isLoopbackAddress("127.0.0.1:15015"));
  CHECK(isLoopbackAddress("127.1.2.3:0"));
  CHECK(isLoopbackAddress("localhost:15015"));
  CHECK(isLoopbackAddress("[::1]:15015"));
  CHECK(isLoopbackAddress("unix:/run/meshd/debug.sock"));
  CHECK_FALSE(isLoopbackAddress("0.0.0.0:15015"));
  CHECK_FALSE(isLoopbackAddress("[::]:15015"));
  CHECK_FALSE(isLoopbackAddress("10.0.0.1:15015"));
  CHECK_FALSE(isLoopbackAddress("meshd.example.com:15015"));
  CHECK_FALSE(isLoopbackAddress("[::1:15015"));
}

TEST_CASE("debugServerCredentials: refuses what would expose every proxy's config") {
  DebugServerOptions o;
  CHECK(debugServerCredentials(o));  // the default, loopback
  o.address = "0.0.0.0:15015";
  auto refused = debugServerCredentials(o);
  REQUIRE(!refused);
  CHECK(refused.error().code == ErrorCode::Usage);
  CHECK(refused.error().message.find("--debug-allow-remote") != std::string::npos);
  o.allowRemote = true;
  CHECK(debugServerCredentials(o));

  DebugServerOptions partial;
  partial.address = "0.0.0.0:15015";
  partial.tlsCert = testdata("server.pem");
  auto incomplete = debugServerCredentials(partial);
  REQUIRE(!incomplete);
  CHECK(incomplete.error().message.find("all of --debug-tls-cert, --debug-tls-key and --debug-tls-ca") !=
        std::string::npos);

  partial.tlsKey = testdata("server.key");
  partial.tlsCa = testdata("no-such-ca.pem");
  auto missing = debugServerCredentials(partial);
  REQUIRE(!missing);
  CHECK(missing.error().code == ErrorCode::Io);
  CHECK(missing.error().message.find("--debug-tls-ca") != std::string::npos);

  partial.tlsCa = testdata("ca.pem");
  CHECK(debugServerCredentials(partial));  // mTLS may listen anywhere
}

TEST_CASE("startDebugServer: a port another server holds is an error, not a shared port") {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  server::AdsServer ads(generators, {}, {});
  PushHistory history;
  DebugService service(ads, generators, history, {});
  DebugServerOptions o;
  o.address = "127.0.0.1:0";
  int port = 0;
  auto first = startDebugServer(o, service, port);
  REQUIRE(first);
  o.address = fmt::format("127.0.0.1:{}", port);
  int again = 0;
  auto second = startDebugServer(o, service, again);
  REQUIRE(!second);
  CHECK(second.error().code == ErrorCode::Unavailable);
  CHECK(second.error().message == fmt::format("--debug-address 127.0.0.1:{}: cannot listen there", port));
  (*first)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST_CASE("debug server with mTLS: a client certificate signed by the CA is required") {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  server::AdsServer ads(generators, {}, {});
  PushHistory history;
  DebugService service(ads, generators, history, {"tls-meshd", {}});
  DebugServerOptions o;
  o.address = "127.0.0.1:0";
  o.tlsCert = testdata("server.pem");
  o.tlsKey = testdata("server.key");
  o.tlsCa = testdata("ca.pem");
  int port = 0;
  auto server = startDebugServer(o, service, port);
  REQUIRE(server);
  REQUIRE(port != 0);

  auto call = [&](bool withClientCert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = readFile(testdata("ca.pem"));
    if (withClientCert) {
      ssl.pem_private_key = readFile(testdata("client.key"));
      ssl.pem_cert_chain = readFile(testdata("client.pem"));
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(fmt::format("localhost:{}", port), grpc::SslCredentials(ssl), args);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::VersionInfo version;
    auto status = v1::MeshDebug::NewStub(channel)->GetVersion(&ctx, {}, &version);
    if (status.ok()) CHECK(version.meshd_instance() == "tls-meshd");
    return status;
  };
  CHECK(call(true).ok());
  CHECK(call(false).error_code() == grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace
}  // namespace mesh::debug
