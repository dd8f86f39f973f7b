// The tls_inspector's ClientHello parser on real ClientHellos (made by OpenSSL) and on
// truncated, split, malformed and oversized input: it must never read out of bounds.
#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <random>
#include <string>

#include "proxy/dataplane/tls_inspector.h"

using namespace mesh::proxy::dataplane;

namespace {

// The first flight of an OpenSSL client with SNI and ALPN, as it would go on the wire.
std::string realClientHello(const std::string& sni, const std::string& alpnWire) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  if (!alpnWire.empty())
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpnWire.data()),
                        static_cast<unsigned>(alpnWire.size()));
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read the ServerHello: the ClientHello is in `out`
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

// Re-frames a single-record ClientHello into records of at most `piece` bytes each.
std::string splitRecords(const std::string& hello, size_t piece) {
  std::string body = hello.substr(5);
  std::string out;
  for (size_t at = 0; at < body.size(); at += piece) {
    std::string part = body.substr(at, piece);
    out += std::string{'\x16', '\x03', '\x01', static_cast<char>(part.size() >> 8), static_cast<char>(part.size() & 0xff)};
    out += part;
  }
  return out;
}

}  // namespace

TEST_CASE("tls inspector: SNI and ALPN from a real ClientHello") {
  std::string hello = realClientHello("Orders.Example.COM", std::string("\x02h2\x08http/1.1", 12));
  auto parsed = parseClientHello(hello);
  REQUIRE(parsed.status == ClientHello::Status::Done);
  CHECK(parsed.serverName == "orders.example.com");
  CHECK(parsed.alpn == std::vector<std::string>{"h2", "http/1.1"});

  auto istio = parseClientHello(realClientHello("outbound_.80_._.svc", std::string("\x13istio-peer-exchange\x05istio", 26)));
  REQUIRE(istio.status == ClientHello::Status::Done);
  CHECK(istio.alpn == std::vector<std::string>{"istio-peer-exchange", "istio"});

  auto bare = parseClientHello(realClientHello("", ""));
  REQUIRE(bare.status == ClientHello::Status::Done);
  CHECK(bare.serverName.empty());
  CHECK(bare.alpn.empty());
}

TEST_CASE("tls inspector: every truncation needs more, records may be split") {
  std::string hello = realClientHello("a.test", std::string("\x02h2", 3));
  for (size_t n = 0; n < hello.size(); ++n) {
    auto parsed = parseClientHello(std::string_view(hello).substr(0, n));
    CHECK(parsed.status == ClientHello::Status::NeedMore);
    CHECK(parsed.serverName.empty());
  }
  std::string split = splitRecords(hello, 50);
  auto parsed = parseClientHello(split);
  REQUIRE(parsed.status == ClientHello::Status::Done);
  CHECK(parsed.serverName == "a.test");
  for (size_t n = 0; n < split.size(); ++n) {
    CHECK(parseClientHello(std::string_view(split).substr(0, n)).status == ClientHello::Status::NeedMore);
  }
}

TEST_CASE("tls inspector: not TLS, malformed and oversized input") {
  CHECK(parseClientHello("GET / HTTP/1.1\r\n").status == ClientHello::Status::NotTls);
  CHECK(parseClientHello("PRI * HTTP/2.0").status == ClientHello::Status::NotTls);
  // A handshake record that is not a ClientHello (a ServerHello, type 2).
  CHECK(parseClientHello(std::string("\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9)).status ==
        ClientHello::Status::Malformed);
  // A record claiming more than TLS allows.
  CHECK(parseClientHello(std::string("\x16\x03\x01\xff\xff\x01", 6)).status == ClientHello::Status::Malformed);
  // A ClientHello claiming 1 MiB: past the inspector's bound.
  CHECK(parseClientHello(std::string("\x16\x03\x01\x00\x04\x01\x10\x00\x00", 9)).status ==
        ClientHello::Status::Malformed);
  // An alert record after the handshake record starts.
  CHECK(parseClientHello(std::string("\x15\x03\x01\x00\x02\x02\x28", 7)).status == ClientHello::Status::NotTls);

  std::string hello = realClientHello("a.test", std::string("\x02h2", 3));
  // Inner lengths that overrun: the SNI list length, set past the end of the message.
  std::string broken = hello;
  size_t sni = broken.find("a.test");
  REQUIRE(sni != std::string::npos);
  broken[sni - 5] = '\x7f';  // server_name_list length high byte
  CHECK(parseClientHello(broken).status == ClientHello::Status::Malformed);

  // 16 KiB of records that never finish the message: bounded.
  std::string endless = std::string("\x16\x03\x01\x40\x00", 5) + std::string("\x01\x00\xff\xff", 4) +
                        std::string(0x4000 - 4, 'x');
  endless += std::string("\x16\x03\x01\x10\x00", 5) + std::string(0x1000, 'y');
  CHECK(parseClientHello(endless).status == ClientHello::Status::Malformed);
}

TEST_CASE("tls inspector: random corruption never crashes") {
  std::string hello = realClientHello("fuzz.example", std::string("\x02h2\x08http/1.1", 12));
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = hello;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    mutated.resize(rng() % (mutated.size() + 1));
    auto parsed = parseClientHello(mutated);
    CHECK(parsed.serverName.size() <= mutated.size());
  }
}
