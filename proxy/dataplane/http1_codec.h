// Http1Parser: strict HTTP/1.1 parsing over Beast's basic_parser, for requests from
// downstream and responses from upstream. Refuses request-smuggling shapes as Envoy does
// (Transfer-Encoding with Content-Length, duplicate Content-Length, bad chunk sizes, obs-fold,
// invalid header names, transfer codings other than chunked) and enforces header size and
// count limits. Body bytes are handed out as they arrive. One parser per message, one thread.
// Serialisation helpers write heads and chunk framing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/dataplane/http_message.h"

namespace mesh::proxy::dataplane {

struct ParseLimits {
  uint32_t maxHeaderBytes = 60 * 1024;
  uint32_t maxHeaders = 100;
  std::optional<uint64_t> maxBodyBytes;  // nullopt: unlimited (bodies are streamed)
  bool rejectUnderscoreHeaders = false;
  bool dropUnderscoreHeaders = false;
};

struct ParseError {
  unsigned status = 400;  // the local reply: 400, 413, 431 or 501
  std::string detail;     // Envoy-style response code detail, e.g. "http1.codec_error"
};

class Http1Parser {
 public:
  enum class Kind { Request, Response };
  Http1Parser(Kind kind, const ParseLimits& limits);
  ~Http1Parser();
  Http1Parser(const Http1Parser&) = delete;
  Http1Parser& operator=(const Http1Parser&) = delete;

  // Parses as much of `data` as it can; returns the bytes consumed. A header is consumed only
  // once complete, so the caller keeps unconsumed bytes and calls again with more.
  size_t parse(std::string_view data);
  // The peer closed: completes a response whose body ends at EOF.
  void finishOnEof();
  // No body will follow (a response to HEAD).
  void skipBody();

  bool failed() const { return error_.has_value(); }
  const ParseError& error() const { return *error_; }
  bool headerDone() const;
  bool messageDone() const;
  bool keepAlive() const;
  bool chunked() const;
  bool needEof() const;
  std::optional<uint64_t> contentLength() const;
  bool expectContinue() const { return expectContinue_; }

  RequestHead& request() { return request_; }
  ResponseHead& response() { return response_; }
  // Body bytes decoded so far and not yet taken.
  std::string takeBody();
  size_t pendingBodyBytes() const { return body_.size(); }
  // The trailer fields of a chunked message (RFC 9112 7.1.2), once messageDone(); framing and
  // routing fields (content-length, transfer-encoding, host, ...) among them are dropped.
  const HeaderMap& trailers() const { return trailers_; }

 private:
  class Impl;
  friend class Impl;
  std::unique_ptr<Impl> impl_;
  RequestHead request_;
  ResponseHead response_;
  std::string body_;
  HeaderMap trailers_;
  std::optional<ParseError> error_;
  bool expectContinue_ = false;
  bool sawHost_ = false;
  ParseLimits limits_;
  Kind kind_;
};

// "GET /p HTTP/1.1\r\nhost: a\r\n...": headers as given plus the framing headers; the caller
// has already removed hop-by-hop headers.
std::string serializeRequestHead(const RequestHead& head, std::optional<uint64_t> contentLength,
                                 bool chunked);
std::string serializeResponseHead(const ResponseHead& head, std::optional<uint64_t> contentLength,
                                  bool chunked, bool close);
void appendChunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
// The last chunk, carrying `trailers` when given and not empty.
void appendLastChunk(std::string& out, const HeaderMap* trailers);

// Connection-level headers a proxy must not forward (RFC 9110 7.6.1).
void removeHopByHopHeaders(HeaderMap& headers);

}  // namespace mesh::proxy::dataplane
