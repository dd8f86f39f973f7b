// Parser strictness: smuggling shapes and limits are refused with Envoy's status codes;
// valid messages (chunked, pipelined, absolute-form) parse.
#include <doctest/doctest.h>

#include "proxy/dataplane/http1_codec.h"

using namespace mesh::proxy::dataplane;

namespace {

struct Parsed {
  bool ok = false;
  unsigned status = 0;
  std::string body;
  size_t used = 0;
};

Parsed parseRequest(std::string_view raw, ParseLimits limits = {}) {
  Http1Parser p(Http1Parser::Kind::Request, limits);
  Parsed out;
  out.used = p.parse(raw);
  out.body = p.takeBody();
  out.ok = !p.failed() && p.messageDone();
  out.status = p.failed() ? p.error().status : 0;
  return out;
}

}  // namespace

TEST_CASE("codec: a simple request, headers lower-cased, Host taken as authority") {
  Http1Parser p(Http1Parser::Kind::Request, {});
  std::string raw = "GET /a?b=1 HTTP/1.1\r\nHost: svc:80\r\nX-Custom: v \r\n\r\n";
  CHECK(p.parse(raw) == raw.size());
  REQUIRE(p.messageDone());
  CHECK(p.request().method == "GET");
  CHECK(p.request().path == "/a?b=1");
  CHECK(p.request().authority == "svc:80");
  CHECK(p.request().headers.get("x-custom") == "v");
  CHECK(p.keepAlive());
}

TEST_CASE("codec: chunked bodies decode; pipelined requests leave the rest unconsumed") {
  std::string first = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  std::string second = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = parseRequest(first + second);
  CHECK(r.ok);
  CHECK(r.body == "Wikipedia");
  CHECK(r.used == first.size());
}

TEST_CASE("codec: absolute-form targets set authority and path") {
  Http1Parser p(Http1Parser::Kind::Request, {});
  p.parse("GET http://example.com:8080?x=1 HTTP/1.1\r\nHost: ignored\r\n\r\n");
  REQUIRE(p.messageDone());
  CHECK(p.request().authority == "example.com:8080");
  CHECK(p.request().path == "/?x=1");
}

TEST_CASE("codec: request smuggling shapes are refused") {
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n").status == 400);
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n").status == 400);
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n").status == 400);
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nBad:Name: v\r\n\r\n").ok);  // ":" ends the name
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\n(bad): v\r\n\r\n").status == 400);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n").status == 501);
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n").status == 501);
  CHECK(parseRequest("GET / HTTP/1.1\r\n\r\n").status == 400);            // no Host
  CHECK(parseRequest("GET / HTTP/1.1\nHost: a\n\n").status == 400);       // bare LF
  CHECK(parseRequest("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status == 400);
}

TEST_CASE("codec: header size, header count and body limits") {
  ParseLimits limits;
  limits.maxHeaders = 3;
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).status == 431);
  ParseLimits small;
  small.maxHeaderBytes = 64;
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nA: " + std::string(100, 'x') + "\r\n\r\n", small).status == 431);
  ParseLimits body;
  body.maxBodyBytes = 4;
  CHECK(parseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde", body).status == 413);
  ParseLimits underscores;
  underscores.rejectUnderscoreHeaders = true;
  CHECK(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\n\r\n", underscores).status == 400);
}

TEST_CASE("codec: Expect 100-continue is noted and not kept as a header") {
  Http1Parser p(Http1Parser::Kind::Request, {});
  p.parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(p.headerDone());
  CHECK_FALSE(p.messageDone());
  CHECK(p.expectContinue());
  CHECK_FALSE(p.request().headers.has("expect"));
  p.parse("hi");
  CHECK(p.messageDone());
  CHECK(p.takeBody() == "hi");
}

TEST_CASE("codec: responses stream their body; EOF ends an unframed body") {
  Http1Parser p(Http1Parser::Kind::Response, {});
  p.parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello");
  CHECK(p.headerDone());
  CHECK(p.needEof());
  CHECK(p.takeBody() == "hello");
  p.finishOnEof();
  CHECK(p.messageDone());
  Http1Parser head(Http1Parser::Kind::Response, {});
  head.skipBody();
  head.parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  CHECK(head.messageDone());
}

TEST_CASE("codec: serialisation and hop-by-hop removal") {
  Http1Parser p(Http1Parser::Kind::Request, {});
  p.parse("GET /x HTTP/1.1\r\nHost: b\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n");
  RequestHead& r = p.request();
  removeHopByHopHeaders(r.headers);
  CHECK(serializeRequestHead(r, 0, false) == "GET /x HTTP/1.1\r\nhost: b\r\nx-keep: 2\r\ncontent-length: 0\r\n\r\n");
  std::string chunk;
  appendChunk(chunk, std::string(26, 'a'));
  CHECK(chunk.substr(0, 4) == "1a\r\n");
}
