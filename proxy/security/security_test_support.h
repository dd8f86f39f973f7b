// Test support for proxy/security: an in-process meshd CA on loopback TLS with its root and
// token in a temporary directory. Tests only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "controlplane/ca/ca_loader.h"
#include "controlplane/ca/ca_server.h"
#include "proxy/security/ca_client.h"

namespace mesh::proxy::security::testing {

namespace ca = mesh::ca;

inline constexpr const char* kToken = "proxy-security-test-token";

struct CaFixture {
  std::filesystem::path dir;
  std::unique_ptr<ca::CertificateAuthority> authority = std::move(*ca::createEphemeralCa(ca::CaOptions{}));
  std::unique_ptr<ca::CaServer> server;

  CaFixture() {
    char tmpl[] = "/tmp/mesh-proxy-security-XXXXXX";
    dir = mkdtemp(tmpl);
    ca::CaServerOptions options;
    options.address = "127.0.0.1:0";
    server = std::move(*ca::CaServer::start(*authority, kToken, options));
    write("root.pem", authority->rootPem());
    write("token", std::string(kToken) + "\n");
  }
  ~CaFixture() {
    server.reset();
    std::filesystem::remove_all(dir);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }

  CaClientOptions clientOptions() const {
    CaClientOptions o;
    o.address = "127.0.0.1:" + std::to_string(server->port());
    o.rootCertFile = (dir / "root.pem").string();
    o.tokenFile = (dir / "token").string();
    o.ns = "payments";
    o.serviceAccount = "api";
    return o;
  }
};

}  // namespace mesh::proxy::security::testing
