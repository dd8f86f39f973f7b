// TLS end to end on loopback with the real curl: a CA, server and client certificates made by
// the openssl CLI at start; SNI choosing between two chains and certificates, ALPN h2, mutual
// TLS required (and a failed handshake hurting no one else), garbage and half ClientHellos,
// upstream ISTIO_MUTUAL (SDS "default"/"ROOTCA", SAN match) into a second listener of the same
// proxy that forwards with x-forwarded-client-cert, SAN mismatch and missing secrets as 503 UF,
// and certificate rotation through the SecretStore; Istio's istio.alpn choosing the peer's
// HTTP chain on a port of unknown protocol, and an HTTP/1.1 cluster never offering h2.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <openssl/ssl.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"
#include "proxy/dataplane/test_observer.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kClientSpiffe = "spiffe://cluster.local/ns/default/sa/client";
constexpr const char* kProxySpiffe = "spiffe://cluster.local/ns/default/sa/proxy";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA and leaf certificates (EC P-256) in a temporary directory, removed at the end.
struct TestPki {
  std::string dir;
  TestPki() {
    char tmpl[] = "/tmp/meshproxy-tls-XXXXXX";
    dir = mkdtemp(tmpl);
    std::string script = "cd " + dir + R"( &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
        -subj /CN=mesh-test-ca -days 2 2>/dev/null &&
      leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
                 -subj "/CN=$1" 2>/dev/null &&
               printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" > "$1.ext" &&
               openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 2 \
                 -extfile "$1.ext" 2>/dev/null; } &&
      leaf a.test DNS:a.test && leaf b.test DNS:b.test &&
      leaf client URI:)" + std::string(kClientSpiffe) + R"( &&
      leaf proxy URI:)" + kProxySpiffe + R"( && leaf proxy2 URI:)" + kProxySpiffe + R"( && echo made)";
    REQUIRE(testing::run(script).find("made") != std::string::npos);
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  TlsSecret workload(const std::string& name) const {
    TlsSecret s;
    s.certificateChainPem = readFile(path(name + ".crt"));
    s.privateKeyPem = readFile(path(name + ".key"));
    return s;
  }
};

uint16_t freePort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

using testing::RecordingObserver;  // telemetry: response flags, mTLS, principals
using testing::eventually;

std::string hcm(const std::string& routes, const std::string& extra = "") {
  return R"(filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" )" + extra + R"( route_config { name: "r" virtual_hosts { name: "all" domains: ["*"] )" + routes +
         R"( } } http_filters { name: "envoy.filters.http.router" } } } })";
}

std::string fileCertContext(const TestPki& pki, const std::string& name, bool alpn = true) {
  return R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
        common_tls_context { )" + std::string(alpn ? R"(alpn_protocols: ["h2", "http/1.1"])" : "") + R"( tls_certificates {
          certificate_chain { filename: ")" + pki.path(name + ".crt") + R"(" }
          private_key { filename: ")" + pki.path(name + ".key") + R"(" } } } } } })";
}

// meshd's sidecar inbound mTLS context (downstream_tls.cpp's meshMtlsContext).
const char* kInboundMtls = R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
    [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
      common_tls_context {
        alpn_protocols: ["h2", "http/1.1"]
        tls_certificate_sds_secret_configs { name: "default" sds_config { ads {} resource_api_version: V3 } }
        combined_validation_context {
          default_validation_context { match_typed_subject_alt_names { san_type: URI matcher { prefix: "spiffe://cluster.local/" } } }
          validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} resource_api_version: V3 } } }
        tls_params { tls_minimum_protocol_version: TLSv1_2 tls_maximum_protocol_version: TLSv1_3 } }
      require_client_certificate { value: true } } } })";

// meshd's ISTIO_MUTUAL upstream context (traffic_policy.cpp) with a SAN to match.
std::string istioMutual(const std::string& san, const std::string& certName = "default",
                        const std::string& alpn = R"(alpn_protocols: ["istio-peer-exchange", "istio"])") {
  return R"(name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
        common_tls_context {
          tls_certificate_sds_secret_configs { name: ")" + certName + R"(" sds_config { ads {} resource_api_version: V3 } }
          combined_validation_context {
            default_validation_context { match_typed_subject_alt_names { san_type: URI matcher { exact: ")" + san + R"(" } } }
            validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} resource_api_version: V3 } } }
          )" + alpn + R"( }
        sni: "outbound_.80_._.app.default.svc.cluster.local" } })";
}

std::string meshCluster(const std::string& name, uint16_t port, const std::string& tls, const std::string& extra = "") {
  return "name: \"" + name + "\" type: STATIC connect_timeout { seconds: 2 } " + extra +
         R"( transport_socket_matches { name: "tlsMode-istio" match { fields { key: "tlsMode" value { string_value: "istio" } } }
           transport_socket { )" + tls + R"( } }
         transport_socket_matches { name: "tlsMode-disabled" match {} transport_socket { name: "envoy.transport_sockets.raw_buffer" } }
         load_assignment { cluster_name: ")" + name + R"(" endpoints { lb_endpoints {
           endpoint { address { socket_address { address: "127.0.0.1" port_value: )" + std::to_string(port) + R"( } } }
           metadata { filter_metadata { key: "envoy.transport_socket_match" value { fields { key: "tlsMode" value { string_value: "istio" } } } } } } } })";
}

// An HCM with Istio's istio.alpn before the router, as meshd sends it on outbound listeners.
std::string hcmWithIstioAlpn(const std::string& routes) {
  return R"(filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "alpn" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"] )" + routes + R"( } }
        http_filters { name: "istio.alpn" typed_config {
          [type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig] {
            alpn_override { upstream_protocol: HTTP10 alpn_override: ["istio-http/1.0", "istio", "http/1.0"] }
            alpn_override { upstream_protocol: HTTP11 alpn_override: ["istio-http/1.1", "istio", "http/1.1"] }
            alpn_override { upstream_protocol: HTTP2 alpn_override: ["istio-h2", "istio", "h2"] } } } }
        http_filters { name: "envoy.filters.http.router" } } } })";
}

struct TlsFixture {
  TestPki pki;
  testing::TestBackend app{"app"};
  std::shared_ptr<SecretStore> secrets = std::make_shared<SecretStore>();
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  std::unique_ptr<DataPlane> plane;
  uint16_t sniPort = 0;
  uint16_t mtlsPort = freePort();
  uint16_t outboundPort = 0;
  uint16_t tlsTcpPort = freePort();
  uint16_t tcpOutPort = 0;
  uint16_t pendingPort = 0;
  uint16_t autoPort = freePort();    // an inbound port of unknown protocol (meshd's AUTO chains)
  uint16_t h2TlsPort = freePort();   // a TLS server preferring h2 by ALPN
  uint16_t alpnOutboundPort = 0;

  TlsFixture() {
    secrets->set("default", pki.workload("proxy"));
    TlsSecret root;
    root.trustedCaPem = readFile(pki.path("ca.crt"));
    secrets->set("ROOTCA", root);
    DataPlaneOptions o;
    o.threads = 2;
    o.secrets = secrets;
    o.observer = observer;
    plane = std::make_unique<DataPlane>(o);

    auto snap = std::make_shared<XdsSnapshot>();
    auto addCluster = [&](const std::string& text) {
      auto c = testing::parseCluster(text);
      snap->clusters[c.name()].resource = c;
    };
    auto addListener = [&](const std::string& text) {
      auto l = testing::parseListener(text);
      snap->listeners[l.name()].resource = l;
    };
    addCluster("name: \"app\" type: STATIC connect_timeout { seconds: 1 } load_assignment { cluster_name: \"app\" "
               "endpoints { lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" port_value: " +
               std::to_string(app.port()) + " } } } } } }");
    addCluster(meshCluster("mesh", mtlsPort, istioMutual(kProxySpiffe)));
    addCluster(meshCluster("mesh-wrong-san", mtlsPort, istioMutual("spiffe://cluster.local/ns/default/sa/other")));
    addCluster(meshCluster("mesh-not-ready", mtlsPort, istioMutual(kProxySpiffe, "kubernetes://missing")));
    // No ALPN in the context: "h2" is offered because the cluster speaks HTTP/2.
    addCluster(meshCluster("mesh-h2", mtlsPort, istioMutual(kProxySpiffe, "default", ""),
                           R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
                              value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
                                explicit_http_config { http2_protocol_options {} } } } })"));

    // meshd's STRICT chains for a port of unknown protocol (inbound_listeners.cpp): Istio's
    // HTTP ALPNs reach the HTTP connection manager (which marks its responses), the mesh's TCP
    // ALPNs tcp_proxy.
    addListener(R"(name: "auto-inbound" traffic_direction: INBOUND
      address { socket_address { address: "127.0.0.1" port_value: )" + std::to_string(autoPort) + R"( } }
      listener_filters { name: "envoy.filters.listener.tls_inspector" }
      filter_chains { filter_chain_match { transport_protocol: "tls"
          application_protocols: ["istio-http/1.0", "istio-http/1.1", "istio-h2"] } )" +
                kInboundMtls +
                hcm(R"(routes { match { prefix: "/" } route { cluster: "app" }
                      response_headers_to_add { header { key: "x-inbound-chain" value: "http" } } })") + R"( }
      filter_chains { filter_chain_match { transport_protocol: "tls" } )" + kInboundMtls + R"(
        filters { name: "envoy.filters.network.tcp_proxy" typed_config {
          [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "app" } } } })");
    addCluster(meshCluster("mesh-auto", autoPort, istioMutual(kProxySpiffe)));
    addCluster(meshCluster("mesh-auto-h2", autoPort, istioMutual(kProxySpiffe),
                           R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
                              value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
                                explicit_http_config { http2_protocol_options {} } } } })"));
    // Istio marks a DestinationRule's own TLS so istio.alpn leaves its ALPN alone.
    addCluster(meshCluster("mesh-auto-optout", autoPort, istioMutual(kProxySpiffe),
                           R"(metadata { filter_metadata { key: "istio" value { fields { key: "alpn_override"
                              value { string_value: "false" } } } } })"));
    addListener(R"(name: "outbound-alpn" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { )" + hcmWithIstioAlpn(R"(routes { match { prefix: "/auto-h2" } route { cluster: "mesh-auto-h2" } }
        routes { match { prefix: "/auto-optout" } route { cluster: "mesh-auto-optout" } }
        routes { match { prefix: "/auto" } route { cluster: "mesh-auto" } })") + " }");
    // An HTTP/1.1 cluster whose TLS context offers h2 first, to a server that prefers h2.
    addListener(R"(name: "h2-tls" address { socket_address { address: "127.0.0.1" port_value: )" +
                std::to_string(h2TlsPort) + R"( } } filter_chains { )" + fileCertContext(pki, "a.test") +
                hcm(R"(routes { match { prefix: "/" } route { cluster: "app" } })") + " }");
    addCluster(R"(name: "h1-offering-h2" type: STATIC connect_timeout { seconds: 2 }
      transport_socket { name: "envoy.transport_sockets.tls" typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
          common_tls_context { alpn_protocols: ["h2", "http/1.1"]
            validation_context { trusted_ca { filename: ")" + pki.path("ca.crt") + R"(" } } }
          sni: "a.test" } } }
      load_assignment { cluster_name: "h1-offering-h2" endpoints { lb_endpoints { endpoint { address { socket_address {
        address: "127.0.0.1" port_value: )" + std::to_string(h2TlsPort) + " } } } } } }");

    const std::string direct = R"( routes { match { prefix: "/app" } route { cluster: "app" } }
        routes { match { prefix: "/" } direct_response { status: 200 body { inline_string: ")";
    addListener(R"(name: "sni" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      listener_filters { name: "envoy.filters.listener.tls_inspector" }
      filter_chains { filter_chain_match { server_names: ["a.test"] } )" +
                fileCertContext(pki, "a.test") + hcm(direct + R"(chain-a" } } })") + R"( }
      filter_chains { filter_chain_match { server_names: ["b.test"] } )" +
                fileCertContext(pki, "b.test") + hcm(direct + R"(chain-b" } } })") + " }");
    addListener(R"(name: "inbound" traffic_direction: INBOUND
      address { socket_address { address: "127.0.0.1" port_value: )" + std::to_string(mtlsPort) + R"( } }
      listener_filters { name: "envoy.filters.listener.tls_inspector" }
      filter_chains { filter_chain_match { transport_protocol: "tls" } )" +
                kInboundMtls +
                hcm(R"(routes { match { prefix: "/" } route { cluster: "app" } })",
                    R"(forward_client_cert_details: APPEND_FORWARD upgrade_configs { upgrade_type: "echo" }
                       set_current_client_cert_details { subject { value: true } dns: true uri: true })") +
                " }");
    addListener(R"(name: "outbound" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { )" + hcm(R"(routes { match { prefix: "/mesh-h2" } route { cluster: "mesh-h2" } }
        routes { match { prefix: "/auto" } route { cluster: "mesh-auto" } }
        routes { match { prefix: "/h1-tls" } route { cluster: "h1-offering-h2" } }
        routes { match { prefix: "/mesh" } route { cluster: "mesh" } }
        routes { match { prefix: "/wrong-san" } route { cluster: "mesh-wrong-san" } }
        routes { match { prefix: "/not-ready" } route { cluster: "mesh-not-ready" } })",
                                     R"(upgrade_configs { upgrade_type: "echo" })") + " }");
    // tcp_proxy: TLS terminated in front of the backend, and originated towards that listener
    // (trusted_ca from a file, a DNS SAN, SNI).
    addCluster(R"(name: "tls-tcp" type: STATIC connect_timeout { seconds: 2 }
      transport_socket { name: "envoy.transport_sockets.tls" typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
          common_tls_context { validation_context { trusted_ca { filename: ")" + pki.path("ca.crt") + R"(" }
            match_typed_subject_alt_names { san_type: DNS matcher { exact: "a.test" } } } }
          sni: "a.test" } } }
      load_assignment { cluster_name: "tls-tcp" endpoints { lb_endpoints { endpoint { address { socket_address {
        address: "127.0.0.1" port_value: )" + std::to_string(tlsTcpPort) + " } } } } } }");
    const std::string tcpProxy = R"(filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: ")";
    addListener(R"(name: "tls-tcp" address { socket_address { address: "127.0.0.1" port_value: )" +
                std::to_string(tlsTcpPort) + " } } filter_chains { " + fileCertContext(pki, "a.test", false) + tcpProxy +
                R"(app" } } } })");
    addListener(R"(name: "tcp-out" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { )" + tcpProxy + R"(tls-tcp" } } } })");
    // A chain whose certificate SDS has not delivered yet.
    addListener(R"(name: "pending" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { transport_socket { name: "envoy.transport_sockets.tls" typed_config {
        [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
          common_tls_context { tls_certificate_sds_secret_configs { name: "kubernetes://pending" } } } } } )" +
                hcm(R"(routes { match { prefix: "/" } route { cluster: "app" } })") + " }");
    auto applied = plane->apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane->start().has_value());
    sniPort = plane->boundPort("sni").value_or(0);
    outboundPort = plane->boundPort("outbound").value_or(0);
    tcpOutPort = plane->boundPort("tcp-out").value_or(0);
    pendingPort = plane->boundPort("pending").value_or(0);
    alpnOutboundPort = plane->boundPort("outbound-alpn").value_or(0);
    REQUIRE(alpnOutboundPort != 0);
    REQUIRE(sniPort != 0);
    REQUIRE(outboundPort != 0);
    REQUIRE(plane->boundPort("inbound").value_or(0) == mtlsPort);
  }
  ~TlsFixture() { plane->stop(); }

  // curl to https://NAME:PORT/ with our CA; stderr too (-v shows the server certificate).
  std::string curlTls(const std::string& name, uint16_t port, const std::string& path, const std::string& args) const {
    std::string p = std::to_string(port);
    return testing::run("curl -s -m 10 --cacert " + pki.path("ca.crt") + " --resolve " + name + ":" + p +
                        ":127.0.0.1 -w ' %{http_code} %{http_version}' " + args + " https://" + name + ":" + p + path +
                        " 2>&1");
  }
  std::string clientCert() const {
    return "--cert " + pki.path("client.crt") + " --key " + pki.path("client.key");
  }
  std::string curlOutbound(const std::string& path, uint16_t port = 0) const {
    return testing::run("curl -s -m 10 -w ' %{http_code}' http://127.0.0.1:" +
                        std::to_string(port != 0 ? port : outboundPort) + path);
  }
  // With response headers (-i).
  std::string curlHeaders(uint16_t port, const std::string& path) const {
    return testing::run("curl -s -i -m 10 http://127.0.0.1:" + std::to_string(port) + path);
  }
};

// The first bytes of a real ClientHello for a.test.
std::string clientHelloBytes() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_tlsext_host_name(ssl, "a.test");
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

bool closedWithin(tcp::socket& s, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  s.non_blocking(true);
  while (std::chrono::steady_clock::now() < until) {
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec && ec != asio::error::would_block) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("loopback tls: SNI picks the chain and its certificate; ALPN h2 picks HTTP/2") {
  TlsFixture f;
  std::string a = f.curlTls("a.test", f.sniPort, "/", "-v --http1.1");
  CHECK(a.find("chain-a 200 1.1") != std::string::npos);
  CHECK(a.find("CN=a.test") != std::string::npos);
  std::string b = f.curlTls("b.test", f.sniPort, "/", "-v --http1.1");
  CHECK(b.find("chain-b 200 1.1") != std::string::npos);
  CHECK(b.find("CN=b.test") != std::string::npos);
  CHECK(f.curlTls("a.test", f.sniPort, "/app/proto", "--http1.1").ends_with(" 200 1.1"));
  CHECK(f.app.lastHeader("x-forwarded-proto") == "https");
  // No chain for an unknown name: the connection closes before any handshake.
  CHECK(f.curlTls("c.test", f.sniPort, "/", "").find(" 000 ") != std::string::npos);

  std::string h2 = f.curlTls("a.test", f.sniPort, "/app/x", "--http2");
  CHECK(h2.find("backend=app path=/app/x ") != std::string::npos);
  CHECK(h2.ends_with(" 200 2"));
}

TEST_CASE("loopback tls: mutual TLS required; failed handshakes, garbage and half ClientHellos hurt no one") {
  TlsFixture f;
  // No client certificate: the handshake fails.
  std::string refused = f.curlTls("inbound.test", f.mtlsPort, "/", "-k");
  CHECK(refused.find(" 000 ") != std::string::npos);

  asio::io_context ioc;
  tcp::socket garbage(ioc);
  garbage.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.sniPort));
  asio::write(garbage, asio::buffer(std::string("\x16\x03\x01\x00\x05garbage-garbage", 21)));
  tcp::socket plain(ioc);
  plain.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.mtlsPort));
  asio::write(plain, asio::buffer(std::string("GET / HTTP/1.1\r\nhost: x\r\n\r\n")));
  tcp::socket half(ioc);
  half.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.sniPort));
  std::string hello = clientHelloBytes();
  asio::write(half, asio::buffer(hello.substr(0, hello.size() / 2)));

  // Others are served meanwhile, the client with a certificate included.
  auto started = std::chrono::steady_clock::now();
  std::string ok = f.curlTls("inbound.test", f.mtlsPort, "/hello", "-k " + f.clientCert());
  CHECK(ok.find("backend=app path=/hello ") != std::string::npos);
  CHECK(ok.ends_with(" 200 2"));  // curl offers h2: ALPN picks the HTTP/2 codec
  CHECK(f.curlTls("a.test", f.sniPort, "/", "--http1.1").find("chain-a 200") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  CHECK(closedWithin(garbage, std::chrono::seconds(2)));
  CHECK(closedWithin(plain, std::chrono::seconds(2)));

  // x-forwarded-client-cert as Istio's inbound sets it (APPEND_FORWARD, subject/uri/dns).
  std::string xfcc = f.app.lastHeader("x-forwarded-client-cert");
  CHECK(xfcc.find(std::string("By=") + kProxySpiffe) == 0);
  CHECK(xfcc.find(";Hash=") != std::string::npos);
  CHECK(xfcc.find(";Subject=\"CN=client\"") != std::string::npos);
  CHECK(xfcc.find(std::string(";URI=") + kClientSpiffe) != std::string::npos);

  // A client's own XFCC is appended to, not trusted away.
  f.curlTls("inbound.test", f.mtlsPort, "/again", "-k " + f.clientCert() + " -H 'x-forwarded-client-cert: By=x;URI=y'");
  CHECK(f.app.lastHeader("x-forwarded-client-cert").find("By=x;URI=y,By=spiffe://") == 0);

  // Telemetry: the inbound side reports mutual_tls and the client's principal.
  CHECK(eventually([&] {
    bool sawPrincipal = false;
    for (const auto& r : f.observer->records()) {
      if (r.path == "/hello") sawPrincipal = r.mutualTls && r.source.principal == kClientSpiffe;
    }
    return sawPrincipal;
  }));
}

TEST_CASE("loopback tls: upstream ISTIO_MUTUAL through an mTLS listener, SAN mismatch, missing secret, rotation") {
  TlsFixture f;
  std::string ok = f.curlOutbound("/mesh/a");
  CHECK(ok.starts_with("backend=app path=/mesh/a "));
  CHECK(ok.ends_with(" 200"));
  // The inbound listener saw the proxy's own workload certificate as the client's.
  CHECK(f.app.lastHeader("x-forwarded-client-cert").find(std::string(";URI=") + kProxySpiffe) != std::string::npos);

  std::string h2 = f.curlOutbound("/mesh-h2/b");
  CHECK(h2.starts_with("backend=app path=/mesh-h2/b "));
  CHECK(h2.ends_with(" 200"));

  std::string wrong = f.curlOutbound("/wrong-san");
  CHECK(wrong.find("TLS error") != std::string::npos);
  CHECK(wrong.ends_with(" 503"));
  std::string notReady = f.curlOutbound("/not-ready");
  CHECK(notReady.find("kubernetes://missing") != std::string::npos);
  CHECK(notReady.find("not ready") != std::string::npos);
  CHECK(notReady.ends_with(" 503"));
  int uf = 0;
  bool outboundMtls = false;
  eventually([&] {
    uf = 0;
    for (const auto& r : f.observer->records()) {
      if ((r.path == "/wrong-san" || r.path == "/not-ready") && r.responseFlags == "UF") ++uf;
      if (r.path == "/mesh/a" && r.reporter == telemetry::Reporter::Source) outboundMtls = r.mutualTls;
    }
    return uf == 2 && outboundMtls;
  });
  CHECK(uf == 2);
  CHECK(outboundMtls);

  // Rotation: a new "default" is served from the next handshake on.
  CHECK(f.curlTls("inbound.test", f.mtlsPort, "/", "-k -v " + f.clientCert()).find("CN=proxy\n") != std::string::npos);
  f.secrets->set("default", f.pki.workload("proxy2"));
  std::string rotated = f.curlTls("inbound.test", f.mtlsPort, "/r", "-k -v " + f.clientCert());
  CHECK(rotated.find("CN=proxy2") != std::string::npos);
  CHECK(rotated.find("backend=app path=/r ") != std::string::npos);
  CHECK(rotated.find(" 200 2") != std::string::npos);
  CHECK(f.curlOutbound("/mesh/after").ends_with(" 200"));
}

TEST_CASE("loopback tls: tcp_proxy terminates and originates TLS") {
  TlsFixture f;
  std::string terminated = f.curlTls("a.test", f.tlsTcpPort, "/t", "");
  CHECK(terminated.find("backend=app path=/t ") != std::string::npos);
  CHECK(terminated.ends_with(" 200 1.1"));
  // Plain in, TLS to the TLS listener, plain to the backend; curl's close half-closes through.
  std::string originated = testing::run("curl -s -m 10 -w ' %{http_code}' http://127.0.0.1:" +
                                        std::to_string(f.tcpOutPort) + "/o");
  CHECK(originated.starts_with("backend=app path=/o "));
  CHECK(originated.ends_with(" 200"));
}

TEST_CASE("loopback tls: a chain whose secret is not ready closes connections until it arrives") {
  TlsFixture f;
  CHECK(f.curlTls("pending.test", f.pendingPort, "/", "-k").find(" 000 ") != std::string::npos);
  CHECK(f.curlTls("a.test", f.sniPort, "/", "--http1.1").find("chain-a 200") != std::string::npos);
  f.secrets->set("kubernetes://pending", f.pki.workload("b.test"));
  std::string served = f.curlTls("pending.test", f.pendingPort, "/p", "-k -v");
  CHECK(served.find("CN=b.test") != std::string::npos);
  CHECK(served.find("backend=app path=/p ") != std::string::npos);
}

TEST_CASE("loopback tls: an upgraded connection relays over upstream and downstream TLS") {
  TlsFixture f;
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.outboundPort));
  // Plain to the outbound listener, TLS (ISTIO_MUTUAL) to the inbound one, plain to the backend.
  asio::write(s, asio::buffer(std::string("GET /mesh/ws HTTP/1.1\r\nhost: app\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n")));
  std::string got;
  boost::system::error_code ec;
  while (got.find("\r\n\r\n") == std::string::npos && !ec) {
    char buf[1024];
    size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
  }
  REQUIRE(got.starts_with("HTTP/1.1 101"));
  got.erase(0, got.find("\r\n\r\n") + 4);
  asio::write(s, asio::buffer(std::string("ping over tls")));
  while (got.size() < 13 && !ec) {
    char buf[64];
    size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
  }
  CHECK(got == "ping over tls");
  // Half-close: our FIN travels through both TLS hops; the echo backend then closes.
  s.shutdown(tcp::socket::shutdown_send);
  char c;
  s.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
}

TEST_CASE("loopback tls: istio.alpn makes an ISTIO_MUTUAL request land on the peer's HTTP chain") {
  TlsFixture f;
  // With istio.alpn the client offers istio-http/1.1: the inbound HCM serves it.
  std::string http = f.curlHeaders(f.alpnOutboundPort, "/auto/a");
  CHECK(http.find("x-inbound-chain: http") != std::string::npos);
  CHECK(http.find("backend=app path=/auto/a ") != std::string::npos);
  // An HTTP/2 cluster offers istio-h2: the same chain, spoken in HTTP/2.
  std::string h2 = f.curlHeaders(f.alpnOutboundPort, "/auto-h2/b");
  CHECK(h2.find("x-inbound-chain: http") != std::string::npos);
  CHECK(h2.find("backend=app path=/auto-h2/b ") != std::string::npos);
  // Without the filter, and on a cluster that opts out, the context's istio-peer-exchange/istio
  // is offered: the TCP chain relays the request untouched.
  std::string viaTcp = f.curlHeaders(f.outboundPort, "/auto/c");
  CHECK(viaTcp.find("backend=app path=/auto/c ") != std::string::npos);
  CHECK(viaTcp.find("x-inbound-chain") == std::string::npos);
  std::string optout = f.curlHeaders(f.alpnOutboundPort, "/auto-optout/d");
  CHECK(optout.find("backend=app path=/auto-optout/d ") != std::string::npos);
  CHECK(optout.find("x-inbound-chain") == std::string::npos);
  // Pooled connections keep their ALPN: the plain listener's next request still goes to TCP.
  CHECK(f.curlHeaders(f.outboundPort, "/auto/e").find("x-inbound-chain") == std::string::npos);
  CHECK(f.curlHeaders(f.alpnOutboundPort, "/auto/f").find("x-inbound-chain: http") != std::string::npos);

  // Telemetry as Istio reports it: the inbound HCM (reporter destination) saw mTLS and the
  // client's principal; the client side names the server certificate's principal.
  bool inbound = false;
  std::string destinationPrincipal;
  eventually([&] {
    for (const auto& r : f.observer->records()) {
      if (r.path == "/auto/a" && r.reporter == telemetry::Reporter::Destination)
        inbound = r.mutualTls && r.source.principal == kProxySpiffe;
      if (r.path == "/auto/a" && r.reporter == telemetry::Reporter::Source) destinationPrincipal = r.destination.principal;
    }
    return inbound && !destinationPrincipal.empty();
  });
  for (const auto& r : f.observer->records())
    CHECK_MESSAGE(!(r.path == "/auto/c" && r.reporter == telemetry::Reporter::Destination), "TCP chain served /auto/c");
  CHECK(inbound);
  CHECK(destinationPrincipal == kProxySpiffe);
}

TEST_CASE("loopback tls: an HTTP/1.1 cluster never offers h2, whatever its TLS context lists") {
  TlsFixture f;
  // The server prefers h2; offered it, it would pick it and the HTTP/1.1 pool could not speak it.
  std::string got = f.curlOutbound("/h1-tls/x");
  CHECK(got.starts_with("backend=app path=/h1-tls/x "));
  CHECK(got.ends_with(" 200"));
  CHECK(eventually([&] {
    bool http11 = false;
    for (const auto& r : f.observer->records()) {
      if (r.path == "/h1-tls/x" && r.downstreamLocalAddress.ends_with(":" + std::to_string(f.h2TlsPort)))
        http11 = r.protocol == "HTTP/1.1";
    }
    return http11;
  }));
}
