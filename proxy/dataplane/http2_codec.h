// Http2Codec: HTTP/2 framing for one h2c connection over nghttp2, as a server (downstream) or
// a client (upstream). Bytes in through receive(), bytes out through takeOutput(); nothing
// here does I/O. Header blocks arrive whole (pseudo-headers included) through Events; stream
// errors (bad headers, header list over the limit) reset that stream only. Received DATA is
// acknowledged (WINDOW_UPDATE) only when the owner calls consume(), so flow control reaches the
// reader. One codec per connection, used from that connection's worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

// RFC 9113 error codes used here.
inline constexpr uint32_t kH2NoError = 0x0;
inline constexpr uint32_t kH2ProtocolError = 0x1;
inline constexpr uint32_t kH2InternalError = 0x2;
inline constexpr uint32_t kH2RefusedStream = 0x7;
inline constexpr uint32_t kH2Cancel = 0x8;

class Http2Codec {
 public:
  enum class Role { Server, Client };

  struct Limits {
    Http2Options http2;
    uint32_t maxHeaderListBytes = 60 * 1024;  // names + values of one header block
    uint32_t maxHeaders = 100;
  };

  class Events {
   public:
    virtual ~Events() = default;
    // A complete header block: a request or response head (with ":method", ":status", ...), or
    // trailers when a head was already delivered on the stream.
    virtual void onHeaders(int32_t stream, HeaderMap headers, bool endStream) = 0;
    virtual void onData(int32_t stream, std::string_view data) = 0;
    // END_STREAM on a DATA frame (for HEADERS it is onHeaders' endStream).
    virtual void onEndStream(int32_t stream) = 0;
    // The stream is gone: ended both ways, or reset by either side (errorCode != 0).
    virtual void onStreamClose(int32_t stream, uint32_t errorCode) = 0;
    // Queued body bytes of `stream` were framed: a writer waiting for room may go on.
    virtual void onSendProgress(int32_t stream) { (void)stream; }
    virtual void onGoaway(int32_t lastStreamId, uint32_t errorCode) { (void)lastStreamId, (void)errorCode; }
  };

  static Result<std::unique_ptr<Http2Codec>> create(Role role, const Limits& limits, Events& events);
  ~Http2Codec();
  Http2Codec(const Http2Codec&) = delete;
  Http2Codec& operator=(const Http2Codec&) = delete;

  // Feeds bytes from the peer. false: a connection error; a GOAWAY is queued, flush and close.
  bool receive(std::string_view bytes);
  // Frames ready to write (empty when there is nothing).
  std::string takeOutput();
  // False once both sides are done with the connection (after GOAWAY, or a fatal error).
  bool alive() const;

  // Client: opens a stream with a request head (pseudo-headers first); the body, if any, follows
  // with sendData / sendTrailers. Returns the stream id, or an error when no stream can open.
  Result<int32_t> submitRequest(const HeaderMap& head, bool endStream);
  // Server: the response head of `stream`.
  bool submitResponse(int32_t stream, const HeaderMap& head, bool endStream);
  // Queues body bytes; `end` closes our side. False when the stream is gone.
  bool sendData(int32_t stream, std::string_view data, bool end);
  // Ends our side with trailers (after any queued data).
  bool sendTrailers(int32_t stream, const HeaderMap& trailers);
  // Body bytes queued on `stream` and not yet framed.
  size_t pendingBytes(int32_t stream) const;
  void resetStream(int32_t stream, uint32_t errorCode);
  // Acknowledges `n` received body bytes of `stream` (sends WINDOW_UPDATE as nghttp2 sees fit).
  void consume(int32_t stream, size_t n);
  // Graceful close: GOAWAY with the last stream seen; streams in flight finish.
  void goaway(uint32_t errorCode = kH2NoError);
  bool goawaySent() const { return goawaySent_; }
  bool goawayReceived() const { return goawayReceived_; }
  // Streams open (ours and the peer's).
  size_t openStreams() const { return in_.size(); }
  // What the peer lets us open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
  uint32_t peerMaxConcurrentStreams() const;

  struct SessionDeleter {
    void operator()(void* session) const;
  };

 private:
  struct OutStream {
    std::string data;
    bool end = false;
    std::optional<HeaderMap> trailers;
    bool deferred = false;
    bool providerAttached = false;
  };
  struct InStream {
    HeaderMap headers;
    size_t headerBytes = 0;
    bool headDelivered = false;
  };
  Http2Codec(Role role, const Limits& limits, Events& events);
  bool attachProvider(int32_t stream, OutStream& out);
  void resume(int32_t stream, OutStream& out);

  struct Callbacks;
  friend struct Callbacks;
  Role role_;
  Limits limits_;
  Events& events_;
  std::unique_ptr<void, SessionDeleter> session_;
  std::unordered_map<int32_t, OutStream> out_;
  std::unordered_map<int32_t, InStream> in_;
  bool goawaySent_ = false;
  bool goawayReceived_ = false;
  bool fatal_ = false;
};

// "name: value" pairs of a head minus pseudo-headers.
bool isPseudoHeader(std::string_view name);

}  // namespace mesh::proxy::dataplane
