// TLS session resumption end to end on loopback. Downstream, with the real `openssl s_client`
// (-sess_out / -sess_in): the context's own random ticket keys, explicit session_ticket_keys
// shared by two listeners (inline and SDS), a listener with another key, tickets disabled (the
// session cache still resumes TLS 1.2), both disabled, and a rotated certificate ending old
// sessions. Upstream: a TLS backend counting SSL_session_reused behind tcp_proxy, over TLS 1.3
// and 1.2, and max_session_keys: 0.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA with two leaves for a.test (the second stands for a rotated certificate).
struct ResumptionPki {
  std::string dir;
  ResumptionPki() {
    char tmpl[] = "/tmp/meshproxy-resume-XXXXXX";
    dir = mkdtemp(tmpl);
    std::string script = "cd " + dir + R"( &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
        -subj /CN=resume-ca -days 2 2>/dev/null &&
      leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
                 -subj "/CN=a.test" 2>/dev/null &&
               printf 'subjectAltName=DNS:a.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' > "$1.ext" &&
               openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 2 \
                 -extfile "$1.ext" 2>/dev/null; } &&
      leaf a && leaf a2 && echo made)";
    REQUIRE(testing::run(script).find("made") != std::string::npos);
  }
  ~ResumptionPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  TlsSecret leaf(const std::string& name) const {
    TlsSecret s;
    s.certificateChainPem = readFile(path(name + ".crt"));
    s.privateKeyPem = readFile(path(name + ".key"));
    return s;
  }
};

// 80 printable bytes: Envoy's key layout only needs the length.
std::string ticketKey(char fill) { return std::string(80, fill); }

// A TLS server on loopback (its own certificate for a.test) that counts resumed handshakes and
// answers each connection with "reused=<0|1>" before closing it.
class ResumptionCountingBackend {
 public:
  explicit ResumptionCountingBackend(const ResumptionPki& pki) : ctx_(asio::ssl::context::tls_server) {
    ctx_.use_certificate_chain_file(pki.path("a.crt"));
    ctx_.use_private_key_file(pki.path("a.key"), asio::ssl::context::pem);
    static const unsigned char kSid[] = "resume-backend";
    SSL_CTX_set_session_id_context(ctx_.native_handle(), kSid, sizeof kSid - 1);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~ResumptionCountingBackend() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }
  int resumed() const { return resumed_.load(); }

 private:
  void serve() {
    while (!stop_) {
      boost::system::error_code ec;
      tcp::socket s(ioc_);
      acceptor_.accept(s, ec);
      if (ec || stop_) continue;
      asio::ssl::stream<tcp::socket> tls(std::move(s), ctx_);
      tls.handshake(asio::ssl::stream_base::server, ec);
      if (ec) continue;
      bool reused = SSL_session_reused(tls.native_handle()) == 1;
      ++handshakes_;
      if (reused) ++resumed_;
      std::string answer = std::string("reused=") + (reused ? "1" : "0") + "\n";
      asio::write(tls, asio::buffer(answer), ec);
      tls.shutdown(ec);
    }
  }

  asio::io_context ioc_;
  asio::ssl::context ctx_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> resumed_{0};
};

std::string directResponse() {
  return R"(filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "resume" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } direct_response { status: 200 body { inline_string: "ok" } } } } }
        http_filters { name: "envoy.filters.http.router" } } } })";
}

// A DownstreamTlsContext with the certificate from files or SDS, and `extra` context fields.
std::string serverTls(const std::string& certificate, const std::string& extra) {
  return R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
        common_tls_context { )" + certificate + " } " + extra + " } } }";
}

struct ResumptionFixture {
  ResumptionPki pki;
  ResumptionCountingBackend backend{pki};
  std::shared_ptr<SecretStore> secrets = std::make_shared<SecretStore>();
  std::unique_ptr<DataPlane> plane;
  std::string sessionFile;

  ResumptionFixture() {
    sessionFile = pki.path("session.pem");
    secrets->set("rotating", pki.leaf("a"));
    TlsSecret keys;
    keys.sessionTicketKeys = {ticketKey('k')};
    secrets->set("ticket-keys", keys);
    DataPlaneOptions o;
    o.threads = 2;
    o.secrets = secrets;
    plane = std::make_unique<DataPlane>(o);
    auto snap = std::make_shared<XdsSnapshot>();
    auto addListener = [&](const std::string& name, const std::string& tls, const std::string& filters) {
      auto l = testing::parseListener("name: \"" + name +
                                      R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
                                      filter_chains { )" + tls + filters + " }");
      snap->listeners[l.name()].resource = l;
    };
    const std::string files = R"(tls_certificates { certificate_chain { filename: ")" + pki.path("a.crt") +
                              R"(" } private_key { filename: ")" + pki.path("a.key") + R"(" } })";
    const std::string inlineKeys = R"(session_ticket_keys { keys { inline_string: ")" + ticketKey('k') + R"(" } })";
    addListener("default", serverTls(files, ""), directResponse());
    addListener("keys-1", serverTls(files, inlineKeys), directResponse());
    // The first key encrypts: another key first, ours second still decrypts ours.
    addListener("keys-2", serverTls(files, R"(session_ticket_keys { keys { inline_string: ")" + ticketKey('z') +
                                               R"(" } keys { inline_string: ")" + ticketKey('k') + R"(" } })"),
                directResponse());
    addListener("keys-other", serverTls(files, R"(session_ticket_keys { keys { inline_string: ")" +
                                                   ticketKey('o') + R"(" } })"),
                directResponse());
    addListener("keys-sds", serverTls(files, R"(session_ticket_keys_sds_secret_config { name: "ticket-keys" })"),
                directResponse());
    addListener("no-tickets", serverTls(files, "disable_stateless_session_resumption: true"), directResponse());
    addListener("no-resumption",
                serverTls(files, "disable_stateless_session_resumption: true disable_stateful_session_resumption: true"),
                directResponse());
    addListener("rotating", serverTls(R"(tls_certificate_sds_secret_configs { name: "rotating" })", inlineKeys),
                directResponse());

    // Upstream: tcp_proxy to the counting backend over TLS 1.3, TLS 1.2, and keeping no sessions.
    auto addUpstream = [&](const std::string& name, const std::string& extra) {
      auto c = testing::parseCluster(testing::loopbackCluster(name, backend.port(), R"(transport_socket {
          name: "envoy.transport_sockets.tls" typed_config {
          [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
            common_tls_context { validation_context { trusted_ca { filename: ")" + pki.path("ca.crt") + R"(" } } )" +
                                                                                 extra));
      snap->clusters[c.name()].resource = c;
      addListener("to-" + name, "", R"(filters { name: "envoy.filters.network.tcp_proxy" typed_config {
          [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: ")" +
                                        name + R"(" } } })");
    };
    addUpstream("tls13", R"(} sni: "a.test" } } })");
    addUpstream("tls12", R"(tls_params { tls_maximum_protocol_version: TLSv1_2 } } sni: "a.test" } } })");
    addUpstream("no-sessions", R"(} sni: "a.test" max_session_keys { value: 0 } } } })");
    auto applied = plane->apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane->start().has_value());
  }
  ~ResumptionFixture() { plane->stop(); }

  uint16_t port(const std::string& listener) const {
    auto p = plane->boundPort(listener);
    REQUIRE(p.has_value());
    return *p;
  }

  // One request through `openssl s_client`; `session`: "-sess_out F" or "-sess_in F". Returns
  // its output, which says "New, TLSv1.x" or "Reused, TLSv1.x". The proxy half-closes TLS
  // without close_notify; without -ignore_unexpected_eof s_client answers with a fatal alert,
  // on which OpenSSL drops the session from the server's cache.
  std::string sClient(const std::string& listener, const std::string& session, const std::string& args = "") const {
    return testing::run(R"(printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' | timeout 10 )"
                        "openssl s_client -connect 127.0.0.1:" + std::to_string(port(listener)) +
                        " -servername a.test -CAfile " + pki.path("ca.crt") + " -ign_eof -ignore_unexpected_eof " +
                        session + " " + args +
                        " 2>&1");
  }
  // A session from `first`, offered to `second`: whether it resumed (and the request worked).
  bool resumes(const std::string& first, const std::string& second, const std::string& args = "") const {
    std::filesystem::remove(sessionFile);
    std::string made = sClient(first, "-sess_out " + sessionFile, args);
    REQUIRE_MESSAGE(made.find("New, TLS") != std::string::npos, made);
    REQUIRE_MESSAGE(made.find("\r\n\r\nok") != std::string::npos, made);
    if (!std::filesystem::exists(sessionFile)) return false;  // no session was given to resume
    std::string offered = sClient(second, "-sess_in " + sessionFile, args);
    REQUIRE_MESSAGE(offered.find("\r\n\r\nok") != std::string::npos, offered);
    return offered.find("Reused, TLS") != std::string::npos;
  }

  // One connection through tcp_proxy: the backend's "reused=N" line.
  std::string throughProxy(const std::string& cluster) const {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port("to-" + cluster)));
    std::string answer;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(answer), ec);
    return answer;
  }
};

}  // namespace

TEST_CASE("loopback tls resumption: downstream tickets with the context's own keys and explicit keys") {
  ResumptionFixture f;
  CHECK(f.resumes("default", "default"));
  CHECK(f.resumes("default", "default", "-tls1_2"));
  // Each context's own random keys: another listener cannot read its tickets.
  CHECK_FALSE(f.resumes("default", "keys-1"));
  // Explicit keys: any context holding the key resumes, whether it encrypts with it or not,
  // inline or from SDS; a context with only another key does not.
  CHECK(f.resumes("keys-1", "keys-2"));
  CHECK(f.resumes("keys-1", "keys-sds", "-tls1_2"));
  CHECK(f.resumes("keys-sds", "keys-1"));
  CHECK_FALSE(f.resumes("keys-1", "keys-other"));
}

TEST_CASE("loopback tls resumption: disabled tickets leave the session cache (TLS 1.2); both off, none") {
  ResumptionFixture f;
  CHECK_FALSE(f.resumes("no-tickets", "no-tickets"));  // TLS 1.3 resumes by tickets only
  CHECK(f.resumes("no-tickets", "no-tickets", "-tls1_2"));  // no ticket issued: the session id
  CHECK(f.resumes("no-tickets", "no-tickets", "-tls1_2 -no_ticket"));
  CHECK(f.resumes("default", "default", "-tls1_2 -no_ticket"));
  CHECK_FALSE(f.resumes("no-resumption", "no-resumption", "-tls1_2 -no_ticket"));
  CHECK_FALSE(f.resumes("no-resumption", "no-resumption"));
}

TEST_CASE("loopback tls resumption: a rotated certificate ends the sessions made under the old one") {
  ResumptionFixture f;
  CHECK(f.resumes("rotating", "rotating"));
  std::filesystem::remove(f.sessionFile);
  std::string before = f.sClient("rotating", "-sess_out " + f.sessionFile);
  REQUIRE(before.find("New, TLS") != std::string::npos);
  f.secrets->set("rotating", f.pki.leaf("a2"));  // the context is rebuilt with the new certificate
  std::string after = f.sClient("rotating", "-sess_in " + f.sessionFile);
  CHECK(after.find("\r\n\r\nok") != std::string::npos);
  CHECK(after.find("New, TLS") != std::string::npos);
  // Sessions under the new certificate resume again.
  CHECK(f.resumes("rotating", "rotating"));
}

TEST_CASE("loopback tls resumption: upstream connections reuse the last session to the host") {
  ResumptionFixture f;
  CHECK(f.throughProxy("tls13") == "reused=0\n");
  CHECK(f.throughProxy("tls13") == "reused=1\n");
  CHECK(f.throughProxy("tls13") == "reused=1\n");
  CHECK(f.throughProxy("tls12") == "reused=0\n");
  CHECK(f.throughProxy("tls12") == "reused=1\n");
  // max_session_keys: 0 keeps no session.
  CHECK(f.throughProxy("no-sessions") == "reused=0\n");
  CHECK(f.throughProxy("no-sessions") == "reused=0\n");
  CHECK(f.backend.handshakes() == 7);
  CHECK(f.backend.resumed() == 3);
}

TEST_CASE("loopback tls resumption: a session ticket key that is not 80 bytes is NACKed without its bytes") {
  ResumptionPki pki;
  DataPlane plane(DataPlaneOptions{});
  auto snap = std::make_shared<XdsSnapshot>();
  auto l = testing::parseListener(
      R"(name: "bad-key" address { socket_address { address: "127.0.0.1" port_value: 0 } } filter_chains { )" +
      serverTls(R"(tls_certificates { certificate_chain { filename: ")" + pki.path("a.crt") +
                    R"(" } private_key { filename: ")" + pki.path("a.key") + R"(" } })",
                R"(session_ticket_keys { keys { inline_string: "secret-but-short" } })") +
      directResponse() + " }");
  snap->listeners[l.name()].resource = l;
  auto applied = plane.apply(snap);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().message.find("session_ticket_keys.keys[0]") != std::string::npos);
  CHECK(applied.error().message.find("exactly 80 bytes, not 16") != std::string::npos);
  CHECK(applied.error().message.find("secret-but-short") == std::string::npos);
}
