// Http2Codec framing, client and server codecs wired back to back in memory: a request with a
// body and a response with trailers, flow-control acknowledgement, a header block over the limit
// resetting only its stream, SETTINGS_MAX_CONCURRENT_STREAMS reaching the client, GOAWAY, and
// garbage instead of a preface ending the connection.
#include <doctest/doctest.h>

#include <map>

#include "proxy/dataplane/http2_codec.h"
#include "proxy/dataplane/http_stream.h"

using namespace mesh::proxy::dataplane;

namespace {

struct Recorder : Http2Codec::Events {
  struct Stream {
    std::vector<HeaderMap> blocks;
    std::string body;
    bool ended = false;
    bool closed = false;
    uint32_t error = 0;
  };
  std::map<int32_t, Stream> streams;
  int32_t goawayLast = -1;
  void onHeaders(int32_t s, HeaderMap h, bool end) override {
    streams[s].blocks.push_back(std::move(h));
    if (end) streams[s].ended = true;
  }
  void onData(int32_t s, std::string_view d) override { streams[s].body.append(d); }
  void onEndStream(int32_t s) override { streams[s].ended = true; }
  void onStreamClose(int32_t s, uint32_t e) override {
    streams[s].closed = true;
    streams[s].error = e;
  }
  void onGoaway(int32_t last, uint32_t) override { goawayLast = last; }
};

struct Pair {
  Recorder clientEvents, serverEvents;
  std::unique_ptr<Http2Codec> client, server;
  explicit Pair(Http2Codec::Limits serverLimits = {}) {
    auto c = Http2Codec::create(Http2Codec::Role::Client, {}, clientEvents);
    auto s = Http2Codec::create(Http2Codec::Role::Server, serverLimits, serverEvents);
    REQUIRE(c.has_value());
    REQUIRE(s.has_value());
    client = std::move(*c);
    server = std::move(*s);
  }
  // Moves bytes both ways until neither side has anything to send.
  void pump() {
    for (int i = 0; i < 50; ++i) {
      std::string a = client->takeOutput();
      std::string b = server->takeOutput();
      if (a.empty() && b.empty()) return;
      if (!a.empty()) server->receive(a);
      if (!b.empty()) client->receive(b);
    }
  }
};

HeaderMap request(const std::string& path) {
  HeaderMap h;
  h.add(":method", "POST");
  h.add(":scheme", "http");
  h.add(":authority", "svc");
  h.add(":path", path);
  h.add("content-type", "application/grpc");
  return h;
}

}  // namespace

TEST_CASE("http2 codec: a request with a body, a response with trailers") {
  Pair p;
  auto id = p.client->submitRequest(request("/echo.Echo/Call"), false);
  REQUIRE(id.has_value());
  CHECK(p.client->sendData(*id, "hello ", false));
  CHECK(p.client->sendData(*id, "world", true));
  p.pump();
  auto& in = p.serverEvents.streams[*id];
  REQUIRE(in.blocks.size() == 1);
  CHECK(in.blocks[0].get(":path") == "/echo.Echo/Call");
  CHECK(in.blocks[0].get(":method") == "POST");
  CHECK(in.body == "hello world");
  CHECK(in.ended);
  p.server->consume(*id, in.body.size());

  HeaderMap head;
  head.add(":status", "200");
  head.add("content-type", "application/grpc");
  REQUIRE(p.server->submitResponse(*id, head, false));
  CHECK(p.server->sendData(*id, "reply", false));
  HeaderMap trailers;
  trailers.add("grpc-status", "0");
  trailers.add("grpc-message", "fine");
  CHECK(p.server->sendTrailers(*id, trailers));
  p.pump();
  auto& out = p.clientEvents.streams[*id];
  REQUIRE(out.blocks.size() == 2);
  CHECK(out.blocks[0].get(":status") == "200");
  CHECK(out.body == "reply");
  CHECK(out.blocks[1].get("grpc-status") == "0");
  CHECK(out.blocks[1].get("grpc-message") == "fine");
  CHECK(out.ended);
  CHECK(out.closed);
  CHECK(out.error == 0);
  CHECK(p.serverEvents.streams[*id].closed);
  CHECK(p.server->openStreams() == 0);
}

TEST_CASE("http2 codec: a header list over the limit resets that stream only") {
  Http2Codec::Limits limits;
  limits.maxHeaderListBytes = 1024;
  Pair p(limits);
  p.pump();  // SETTINGS both ways
  HeaderMap big = request("/big");
  big.add("x-big", std::string(2000, 'a'));
  auto bad = p.client->submitRequest(big, true);
  auto good = p.client->submitRequest(request("/small"), true);
  REQUIRE(bad.has_value());
  REQUIRE(good.has_value());
  p.pump();
  CHECK(p.serverEvents.streams[*bad].blocks.empty());
  CHECK(p.clientEvents.streams[*bad].closed);
  CHECK(p.clientEvents.streams[*bad].error != 0);  // RST_STREAM
  REQUIRE(p.serverEvents.streams[*good].blocks.size() == 1);
  CHECK(p.serverEvents.streams[*good].blocks[0].get(":path") == "/small");
  HeaderMap head;
  head.add(":status", "204");
  REQUIRE(p.server->submitResponse(*good, head, true));
  p.pump();
  CHECK(p.clientEvents.streams[*good].ended);
  CHECK(p.client->alive());
}

TEST_CASE("http2 codec: max concurrent streams reaches the client; flow control waits for consume") {
  Http2Codec::Limits limits;
  limits.http2.maxConcurrentStreams = 7;
  limits.http2.initialStreamWindowSize = 65535;
  limits.http2.initialConnectionWindowSize = 65535;
  Pair p(limits);
  p.pump();
  CHECK(p.client->peerMaxConcurrentStreams() == 7);

  auto id = p.client->submitRequest(request("/upload"), false);
  REQUIRE(id.has_value());
  CHECK(p.client->sendData(*id, std::string(200'000, 'x'), true));
  p.pump();
  // The server took one window's worth; the rest waits until it acknowledges what it read.
  size_t first = p.serverEvents.streams[*id].body.size();
  CHECK(first == 65535);
  CHECK(p.client->pendingBytes(*id) > 0);
  size_t acknowledged = 0;
  for (int i = 0; i < 20 && !p.serverEvents.streams[*id].ended; ++i) {
    size_t have = p.serverEvents.streams[*id].body.size();
    p.server->consume(*id, have - acknowledged);
    acknowledged = have;
    p.pump();
  }
  CHECK(p.serverEvents.streams[*id].body.size() == 200'000);
  CHECK(p.serverEvents.streams[*id].ended);
}

TEST_CASE("http2 codec: GOAWAY names the last stream; a bad preface ends the connection") {
  Pair p;
  auto id = p.client->submitRequest(request("/a"), true);
  REQUIRE(id.has_value());
  p.pump();
  p.server->goaway();
  CHECK(p.server->goawaySent());
  p.pump();
  CHECK(p.client->goawayReceived());
  CHECK(p.clientEvents.goawayLast == *id);

  Recorder events;
  auto server = Http2Codec::create(Http2Codec::Role::Server, {}, events);
  REQUIRE(server.has_value());
  CHECK_FALSE((*server)->receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK((*server)->goawaySent());
  std::string last = (*server)->takeOutput();  // SETTINGS, then GOAWAY (frame type 7)
  CHECK(last.size() >= 9);
  CHECK_FALSE((*server)->alive());
}

TEST_CASE("grpc support: grpc-timeout units, HTTP to gRPC status, gRPC content types") {
  HeaderMap h;
  h.add("grpc-timeout", "250m");
  CHECK(grpcTimeout(h) == std::chrono::milliseconds(250));
  h.set("grpc-timeout", "3S");
  CHECK(grpcTimeout(h) == std::chrono::milliseconds(3000));
  h.set("grpc-timeout", "1500u");
  CHECK(grpcTimeout(h) == std::chrono::milliseconds(2));
  h.set("grpc-timeout", "123456789S");  // more than 8 digits
  CHECK_FALSE(grpcTimeout(h).has_value());
  h.set("grpc-timeout", "5x");
  CHECK_FALSE(grpcTimeout(h).has_value());
  CHECK(grpcStatusForHttp(503) == 14);
  CHECK(grpcStatusForHttp(504) == 14);
  CHECK(grpcStatusForHttp(404) == 12);
  CHECK(grpcStatusForHttp(500) == 2);
  h.set("content-type", "application/grpc+proto");
  CHECK(isGrpcRequest(h));
  h.set("content-type", "application/grpc-web");
  CHECK_FALSE(isGrpcRequest(h));
}
