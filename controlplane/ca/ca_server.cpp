#include "controlplane/ca/ca_server.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/log.h"

namespace mesh::ca {

std::vector<std::string> servingDnsNames(std::string_view hostName) {
  std::vector<std::string> names;
  if (!hostName.empty() && hostName != "localhost") names.emplace_back(hostName);
  names.emplace_back("localhost");
  names.emplace_back("istiod.istio-system.svc");
  return names;
}

Result<std::unique_ptr<CaServer>> CaServer::start(const CertificateAuthority& ca, std::string_view token,
                                                  const CaServerOptions& options) {
  auto serving = ca.issueServingCertificate(options.dnsNames, options.ipAddresses, options.servingCertValidity);
  if (!serving) return fail(serving.error().code, "the CA's serving certificate: " + serving.error().message);
  std::string chain;
  for (const auto& pem : serving->chainPem) chain += pem;
  // Client certificates are optional (token callers have none) but verified when sent.
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca.rootPem();
  ssl.pem_key_cert_pairs.push_back({serving->privateKeyPem, chain});
  OPENSSL_cleanse(serving->privateKeyPem.data(), serving->privateKeyPem.size());

  std::unique_ptr<CaServer> server(new CaServer(ca, token));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::SslServerCredentials(ssl), &server->port_);
  builder.RegisterService(&server->service_);
  builder.SetMaxReceiveMessageSize(options.maxRequestBytes);
  // A second meshd must not silently share the port and answer with another root.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0)
    return fail(ErrorCode::Unavailable, fmt::format("--ca-address {}: cannot listen there", options.address),
                "pick a free port with --ca-address");
  return server;
}

CaServer::~CaServer() { shutdown(std::chrono::milliseconds(0)); }

void CaServer::shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

Result<std::string> loadOrCreateToken(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
      mesh::log::warn("ca", "{}: the CA token file is readable by other users (chmod 600 it)", path);
    auto text = readSmallFile(path, 4096);
    if (!text) return fail(text.error().code, "--ca-token-file " + text.error().message);
    std::string_view t = *text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    if (t.empty()) return fail(ErrorCode::InvalidInput, fmt::format("--ca-token-file {}: the file is empty", path));
    std::string token(t);
    OPENSSL_cleanse(text->data(), text->size());
    return token;
  }
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec)
      return fail(ErrorCode::Io,
                  fmt::format("--ca-token-file {}: cannot create {}: {}", path, parent.string(), ec.message()));
    fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  auto token = randomHex(32);
  if (!token) return Failure(token.error());
  if (auto ok = writePrivateFile(path, *token + "\n"); !ok)
    return fail(ok.error().code, "--ca-token-file " + ok.error().message);
  mesh::log::info("ca", "created the CA token file {}", path);
  return token;
}

}  // namespace mesh::ca
