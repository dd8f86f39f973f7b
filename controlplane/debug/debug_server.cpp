#include "controlplane/debug/debug_server.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace mesh::debug {
namespace {

Result<std::string> readPem(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, fmt::format("{} {}: cannot read the file", flag, path));
  std::ostringstream body;
  body << in.rdbuf();
  if (body.str().find("-----BEGIN ") == std::string::npos)
    return fail(ErrorCode::InvalidInput, fmt::format("{} {}: not a PEM file", flag, path));
  return body.str();
}

}  // namespace

bool isLoopbackAddress(std::string_view hostPort) {
  if (hostPort.starts_with("unix:") || hostPort.starts_with("unix-abstract:")) return true;
  std::string_view host = hostPort;
  if (host.starts_with("[")) {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // a host name: it may resolve to anything
}

Result<std::shared_ptr<grpc::ServerCredentials>> debugServerCredentials(const DebugServerOptions& options) {
  if (options.tls()) {
    if (options.tlsCert.empty() || options.tlsKey.empty() || options.tlsCa.empty())
      return fail(ErrorCode::Usage, "mTLS for the debug API needs all of --debug-tls-cert, --debug-tls-key and "
                                    "--debug-tls-ca");
    auto cert = readPem("--debug-tls-cert", options.tlsCert);
    if (!cert) return Failure(cert.error());
    auto key = readPem("--debug-tls-key", options.tlsKey);
    if (!key) return Failure(key.error());
    auto ca = readPem("--debug-tls-ca", options.tlsCa);
    if (!ca) return Failure(ca.error());
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = std::move(*ca);
    ssl.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
    return grpc::SslServerCredentials(ssl);
  }
  if (!isLoopbackAddress(options.address) && !options.allowRemote)
    return fail(ErrorCode::Usage,
                fmt::format("--debug-address {}: the debug API shows every proxy's config; it serves a "
                            "non-loopback address only with mTLS or --debug-allow-remote",
                            options.address),
                "use --debug-tls-cert, --debug-tls-key and --debug-tls-ca, or listen on 127.0.0.1");
  return grpc::InsecureServerCredentials();
}

Result<std::unique_ptr<grpc::Server>> startDebugServer(const DebugServerOptions& options, grpc::Service& service,
                                                       int& port) {
  auto credentials = debugServerCredentials(options);
  if (!credentials) return Failure(credentials.error());
  grpc::ServerBuilder builder;
  port = 0;
  builder.AddListeningPort(options.address, *credentials, &port);
  builder.RegisterService(&service);
  builder.SetMaxSendMessageSize(-1);  // a config dump of a large mesh may exceed gRPC's 4 MiB default
  // gRPC sets SO_REUSEPORT by default, so a second meshd would share the port and answers would
  // come from either: a debug answer must come from the meshd that was asked, so a busy port
  // is an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || (port == 0 && !options.address.starts_with("unix")))
    return fail(ErrorCode::Unavailable, fmt::format("--debug-address {}: cannot listen there", options.address));
  return server;
}

}  // namespace mesh::debug
