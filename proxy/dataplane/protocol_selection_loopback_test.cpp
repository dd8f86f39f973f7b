// Upstream protocol selection on loopback with real clients: HttpProtocolOptions'
// use_downstream_protocol_config (curl --http2-prior-knowledge arrives over HTTP/2, plain curl
// over HTTP/1.1) and auto_config over TLS (ALPN: an h2-capable server is spoken to over HTTP/2,
// an http/1.1-only one over HTTP/1.1). The backends are a second data plane whose telemetry
// records the protocol each request arrived with.
#include <doctest/doctest.h>

#include <filesystem>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"
#include "proxy/dataplane/test_observer.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

// A CA and a server certificate for a.test in a temporary directory, removed at the end.
struct ServerPki {
  std::string dir;
  ServerPki() {
    char tmpl[] = "/tmp/meshproxy-alpn-XXXXXX";
    dir = mkdtemp(tmpl);
    std::string script = "cd " + dir + R"( &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
        -subj /CN=mesh-test-ca -days 2 2>/dev/null &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout a.key -out a.csr -subj /CN=a.test 2>/dev/null &&
      printf 'subjectAltName=DNS:a.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > a.ext &&
      openssl x509 -req -in a.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out a.crt -days 2 -extfile a.ext 2>/dev/null &&
      echo made)";
    REQUIRE(testing::run(script).find("made") != std::string::npos);
  }
  ~ServerPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// A listener answering 200 "ok" itself, optionally over TLS offering `alpn`.
std::string backendListener(const std::string& name, const std::string& tls) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { )" + tls + R"( filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" codec_type: AUTO route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } direct_response { status: 200 body { inline_string: "ok" } } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

std::string serverTls(const ServerPki& pki, const std::string& alpn) {
  return R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
        common_tls_context { alpn_protocols: [)" + alpn + R"(] tls_certificates {
          certificate_chain { filename: ")" + pki.dir + R"(/a.crt" }
          private_key { filename: ")" + pki.dir + R"(/a.key" } } } } } })";
}

std::string protocolOptions(const std::string& config) {
  return R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
      value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { )" + config + " } } }";
}

std::string clientTls(const ServerPki& pki) {
  return R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
        sni: "a.test" common_tls_context { validation_context { trusted_ca { filename: ")" + pki.dir + R"(/ca.crt" } } } } } })";
}

struct Fixture {
  ServerPki pki;
  std::shared_ptr<testing::RecordingObserver> seen = std::make_shared<testing::RecordingObserver>();
  DataPlane backend{[this] {
    DataPlaneOptions o;
    o.threads = 1;
    o.observer = seen;
    return o;
  }()};
  DataPlane front{DataPlaneOptions{}};
  uint16_t port = 0;

  Fixture() {
    auto b = std::make_shared<XdsSnapshot>();
    b->listeners["plain"].resource = testing::parseListener(backendListener("plain", ""));
    b->listeners["tls-h2"].resource = testing::parseListener(backendListener("tls-h2", serverTls(pki, R"("h2", "http/1.1")")));
    b->listeners["tls-h1"].resource = testing::parseListener(backendListener("tls-h1", serverTls(pki, R"("http/1.1")")));
    auto applied = backend.apply(b);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(backend.start().has_value());
    auto bound = [&](const char* name) {
      uint16_t p = backend.boundPort(name).value_or(0);
      REQUIRE(p != 0);
      return p;
    };
    auto f = std::make_shared<XdsSnapshot>();
    auto cluster = [&](const std::string& name, uint16_t p, const std::string& extra) {
      f->clusters[name].resource = testing::parseCluster(testing::loopbackCluster(name, p, extra));
    };
    cluster("downstream", bound("plain"), protocolOptions("use_downstream_protocol_config {}"));
    cluster("auto-h2", bound("tls-h2"), protocolOptions("auto_config {}") + clientTls(pki));
    cluster("auto-h1", bound("tls-h1"), protocolOptions("auto_config {}") + clientTls(pki));
    f->listeners["front"].resource = testing::parseListener(R"(name: "front"
      address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
          stat_prefix: "http" codec_type: AUTO route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
            routes { match { prefix: "/downstream/" } route { cluster: "downstream" } }
            routes { match { prefix: "/auto-h2/" } route { cluster: "auto-h2" } }
            routes { match { prefix: "/auto-h1/" } route { cluster: "auto-h1" } } } }
          http_filters { name: "envoy.filters.http.router" } } } } })");
    applied = front.apply(f);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(front.start().has_value());
    port = front.boundPort("front").value_or(0);
    REQUIRE(port != 0);
  }
  ~Fixture() {
    front.stop();
    backend.stop();
  }
  // "CODE VERSION" of one curl call through the front plane.
  std::string curl(const std::string& path, const std::string& args = "") const {
    return testing::run("curl -s -o /dev/null -m 20 -w '%{http_code} %{http_version}' " + args + " 'http://127.0.0.1:" +
                        std::to_string(port) + path + "'");
  }
  // The protocol the backend saw for `path` ("" until its record arrives).
  std::string arrivedWith(const std::string& path) {
    std::string out;
    testing::eventually([&] {
      for (const auto& r : seen->records()) {
        if (r.path == path) out = r.protocol;
      }
      return !out.empty();
    });
    return out;
  }
};

}  // namespace

TEST_CASE("loopback protocol selection: use_downstream_protocol_config follows the client's protocol") {
  Fixture fx;
  CHECK(fx.curl("/downstream/a", "--http2-prior-knowledge") == "200 2");
  CHECK(fx.arrivedWith("/downstream/a") == "HTTP/2");
  CHECK(fx.curl("/downstream/b") == "200 1.1");
  CHECK(fx.arrivedWith("/downstream/b") == "HTTP/1.1");
  CHECK(fx.curl("/downstream/c", "--http1.0").starts_with("200 "));
  CHECK(fx.arrivedWith("/downstream/c") == "HTTP/1.1");  // HTTP/1.0 goes up as HTTP/1.1, as Envoy
  // Both pools are reused afterwards: more requests of either kind.
  for (int i = 0; i < 3; ++i) {
    CHECK(fx.curl("/downstream/h2-" + std::to_string(i), "--http2-prior-knowledge") == "200 2");
    CHECK(fx.curl("/downstream/h1-" + std::to_string(i)) == "200 1.1");
  }
  CHECK(fx.arrivedWith("/downstream/h2-2") == "HTTP/2");
  CHECK(fx.arrivedWith("/downstream/h1-2") == "HTTP/1.1");
}

TEST_CASE("loopback protocol selection: auto_config uses the protocol the TLS server chooses by ALPN") {
  Fixture fx;
  for (int i = 0; i < 3; ++i) {  // the first connects; the next reuse its connection
    std::string n = std::to_string(i);
    CHECK(fx.curl("/auto-h2/" + n) == "200 1.1");
    CHECK(fx.arrivedWith("/auto-h2/" + n) == "HTTP/2");
    CHECK(fx.curl("/auto-h1/" + n, "--http2-prior-knowledge") == "200 2");
    CHECK(fx.arrivedWith("/auto-h1/" + n) == "HTTP/1.1");
  }
}

TEST_CASE("protocol selection: auto_config without TLS is NACKed, as Envoy's ALPN check") {
  DataPlane plane{DataPlaneOptions{}};
  auto snap = std::make_shared<XdsSnapshot>();
  snap->clusters["plain"].resource =
      testing::parseCluster(testing::loopbackCluster("plain", 9, protocolOptions("auto_config {}")));
  auto applied = plane.apply(snap);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().message.find("non-ALPN transport socket") != std::string::npos);
}
