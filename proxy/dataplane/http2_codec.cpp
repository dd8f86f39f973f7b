// HTTP/2 framing over nghttp2: see http2_codec.h. nghttp2 validates the messaging rules
// (pseudo-headers, connection-specific headers, content-length against DATA) and answers a
// violation with RST_STREAM PROTOCOL_ERROR; the limits on header blocks are enforced here.
#include "proxy/dataplane/http2_codec.h"

#include <nghttp2/nghttp2.h>

#include <cstring>
#include <vector>

namespace mesh::proxy::dataplane {

namespace {

nghttp2_session* raw(const std::unique_ptr<void, Http2Codec::SessionDeleter>& s) {
  return static_cast<nghttp2_session*>(s.get());
}

std::vector<nghttp2_nv> toNv(const HeaderMap& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [name, value] : headers.entries()) {
    nv.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                            reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                            NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

}  // namespace

bool isPseudoHeader(std::string_view name) { return !name.empty() && name.front() == ':'; }

void Http2Codec::SessionDeleter::operator()(void* session) const {
  nghttp2_session_del(static_cast<nghttp2_session*>(session));
}

struct Http2Codec::Callbacks {
  static Http2Codec& self(void* user) { return *static_cast<Http2Codec*>(user); }

  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto& in = c.in_[frame->hd.stream_id];
    in.headers = HeaderMap();
    in.headerBytes = 0;
    return 0;
  }

  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                    const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto& c = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto& in = c.in_[frame->hd.stream_id];
    // RFC 9113 6.5.2 counts 32 bytes of overhead per field.
    in.headerBytes += namelen + valuelen + 32;
    if (in.headerBytes > c.limits_.maxHeaderListBytes || in.headers.size() >= c.limits_.maxHeaders) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM for this stream only
    }
    in.headers.add(std::string(reinterpret_cast<const char*>(name), namelen),
                   std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }

  static int frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& c = self(user);
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        auto it = c.in_.find(frame->hd.stream_id);
        if (it == c.in_.end()) return 0;
        HeaderMap headers = std::move(it->second.headers);
        it->second.headers = HeaderMap();
        it->second.headDelivered = true;
        c.events_.onHeaders(frame->hd.stream_id, std::move(headers), end);
        break;
      }
      case NGHTTP2_DATA:
        if (end) c.events_.onEndStream(frame->hd.stream_id);
        break;
      case NGHTTP2_GOAWAY:
        c.goawayReceived_ = true;
        c.events_.onGoaway(frame->goaway.last_stream_id, frame->goaway.error_code);
        break;
      default: break;
    }
    return 0;
  }

  static int dataChunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len, void* user) {
    self(user).events_.onData(stream, std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int streamClose(nghttp2_session*, int32_t stream, uint32_t errorCode, void* user) {
    auto& c = self(user);
    c.in_.erase(stream);
    c.out_.erase(stream);
    c.events_.onStreamClose(stream, errorCode);
    return 0;
  }

  static ssize_t read(nghttp2_session* session, int32_t stream, uint8_t* buf, size_t length, uint32_t* flags,
                      nghttp2_data_source*, void* user) {
    auto& c = self(user);
    auto it = c.out_.find(stream);
    if (it == c.out_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    OutStream& out = it->second;
    size_t n = std::min(length, out.data.size());
    if (n > 0) {
      std::memcpy(buf, out.data.data(), n);
      out.data.erase(0, n);
    }
    if (out.data.empty() && out.end) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (out.trailers) {
        auto nv = toNv(*out.trailers);
        if (nghttp2_submit_trailer(session, stream, nv.data(), nv.size()) == 0) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    } else if (n == 0) {
      out.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    if (n > 0) c.events_.onSendProgress(stream);
    return static_cast<ssize_t>(n);
  }
};

Http2Codec::Http2Codec(Role role, const Limits& limits, Events& events)
    : role_(role), limits_(limits), events_(events) {}

Http2Codec::~Http2Codec() = default;

Result<std::unique_ptr<Http2Codec>> Http2Codec::create(Role role, const Limits& limits, Events& events) {
  std::unique_ptr<Http2Codec> codec(new Http2Codec(role, limits, events));
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return fail(ErrorCode::Internal, "nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Callbacks::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Callbacks::frameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Callbacks::dataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Callbacks::streamClose);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Until the server's SETTINGS arrive, open no more streams than our own limit.
  nghttp2_option_set_peer_max_concurrent_streams(opt, limits.http2.maxConcurrentStreams);
  nghttp2_session* session = nullptr;
  int rv = role == Role::Server ? nghttp2_session_server_new2(&session, cb, codec.get(), opt)
                                : nghttp2_session_client_new2(&session, cb, codec.get(), opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return fail(ErrorCode::Internal, std::string("nghttp2: ") + nghttp2_strerror(rv));
  codec->session_.reset(session);
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.http2.initialStreamWindowSize},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes},
  };
  if (role == Role::Server) {
    settings.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.http2.maxConcurrentStreams});
  } else {
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  rv = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (rv == 0 && limits.http2.initialConnectionWindowSize > 65535) {
    rv = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                               static_cast<int32_t>(limits.http2.initialConnectionWindowSize));
  }
  if (rv != 0) return fail(ErrorCode::Internal, std::string("nghttp2: ") + nghttp2_strerror(rv));
  return codec;
}

bool Http2Codec::receive(std::string_view bytes) {
  if (fatal_) return false;
  ssize_t rv = nghttp2_session_mem_recv(raw(session_), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    fatal_ = true;
    nghttp2_session_terminate_session(raw(session_),
                                      rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    goawaySent_ = true;
    return false;
  }
  return true;
}

std::string Http2Codec::takeOutput() {
  std::string out;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(raw(session_), &data);
    if (n <= 0) {
      if (n < 0) fatal_ = true;
      break;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    if (out.size() >= 256 * 1024) break;  // the caller writes and asks again
  }
  return out;
}

bool Http2Codec::alive() const {
  if (fatal_) return nghttp2_session_want_write(raw(session_)) != 0;  // the GOAWAY still to go out
  return nghttp2_session_want_read(raw(session_)) || nghttp2_session_want_write(raw(session_));
}

bool Http2Codec::attachProvider(int32_t stream, OutStream& out) {
  (void)stream;
  out.providerAttached = true;
  return true;
}

Result<int32_t> Http2Codec::submitRequest(const HeaderMap& head, bool endStream) {
  auto nv = toNv(head);
  nghttp2_data_provider prd{};
  prd.read_callback = &Callbacks::read;
  int32_t id = nghttp2_submit_request(raw(session_), nullptr, nv.data(), nv.size(), endStream ? nullptr : &prd, nullptr);
  if (id < 0) return fail(ErrorCode::Unavailable, std::string("nghttp2: ") + nghttp2_strerror(id));
  in_[id];
  if (!endStream) attachProvider(id, out_[id]);
  return id;
}

bool Http2Codec::submitResponse(int32_t stream, const HeaderMap& head, bool endStream) {
  auto nv = toNv(head);
  nghttp2_data_provider prd{};
  prd.read_callback = &Callbacks::read;
  if (!endStream) attachProvider(stream, out_[stream]);
  int rv = nghttp2_submit_response(raw(session_), stream, nv.data(), nv.size(), endStream ? nullptr : &prd);
  if (rv != 0) out_.erase(stream);
  return rv == 0;
}

void Http2Codec::resume(int32_t stream, OutStream& out) {
  if (!out.deferred) return;
  out.deferred = false;
  nghttp2_session_resume_data(raw(session_), stream);
}

bool Http2Codec::sendData(int32_t stream, std::string_view data, bool end) {
  auto it = out_.find(stream);
  if (it == out_.end() || it->second.end) return false;
  it->second.data.append(data);
  it->second.end = end;
  resume(stream, it->second);
  return true;
}

bool Http2Codec::sendTrailers(int32_t stream, const HeaderMap& trailers) {
  auto it = out_.find(stream);
  if (it == out_.end() || it->second.end) return false;
  it->second.trailers = trailers;
  it->second.end = true;
  resume(stream, it->second);
  return true;
}

size_t Http2Codec::pendingBytes(int32_t stream) const {
  auto it = out_.find(stream);
  return it == out_.end() ? 0 : it->second.data.size();
}

void Http2Codec::resetStream(int32_t stream, uint32_t errorCode) {
  nghttp2_submit_rst_stream(raw(session_), NGHTTP2_FLAG_NONE, stream, errorCode);
}

void Http2Codec::consume(int32_t stream, size_t n) {
  if (n > 0) nghttp2_session_consume(raw(session_), stream, n);
}

void Http2Codec::goaway(uint32_t errorCode) {
  if (goawaySent_) return;
  goawaySent_ = true;
  int32_t last = role_ == Role::Server ? nghttp2_session_get_last_proc_stream_id(raw(session_)) : 0;
  nghttp2_submit_goaway(raw(session_), NGHTTP2_FLAG_NONE, last, errorCode, nullptr, 0);
}

uint32_t Http2Codec::peerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(raw(session_), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

}  // namespace mesh::proxy::dataplane
