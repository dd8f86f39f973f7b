// Downstream h2c: see http2_session.h. One reader coroutine per connection feeds the codec; each
// request stream runs the router in its own coroutine; one writer coroutine at a time drains the
// codec's output. Request bodies are acknowledged (WINDOW_UPDATE) only as the router takes them.
#include "proxy/dataplane/http2_session.h"

#include <charconv>
#include <unordered_map>

#include "proxy/dataplane/h2_wait.h"
#include "proxy/dataplane/http2_codec.h"
#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

namespace {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kSendHighWater = 256 * 1024;  // queued response bytes before the router waits
constexpr auto kDrainPoll = std::chrono::milliseconds(100);

struct H2Request {
  explicit H2Request(const asio::any_io_executor& ex) : signal(ex) {}
  int32_t id = 0;
  RequestHead head;
  std::string body;          // received, not yet taken
  bool ended = false;        // END_STREAM from the client
  std::optional<HeaderMap> trailers;  // the trailers HEADERS frame that ended the body
  bool reset = false;        // reset by either side, or the connection is gone
  bool responseEnded = false;
  bool bodyStopped = false;  // the router wants no more of the body
  StreamSignal signal;
};

class H2Connection;

// One request stream as the router sees it.
class Http2Stream : public DownstreamStream {
 public:
  Http2Stream(H2Connection& conn, std::shared_ptr<H2Request> req, bool streaming)
      : conn_(conn), req_(std::move(req)), streaming_(streaming) {}
  Downstream& connection() override;
  std::string_view protocol() const override { return "HTTP/2"; }
  asio::awaitable<bool> sendLocalReply(unsigned status, std::string_view body, const HeaderMap* extra) override;
  asio::awaitable<bool> sendHead(ResponseHead head, std::optional<uint64_t> length, bool noBody) override;
  asio::awaitable<bool> sendBody(std::string_view data) override;
  asio::awaitable<bool> sendEnd(const HeaderMap* trailers) override;
  bool keepAlive() const override { return true; }
  bool bodyStreaming() const override { return streaming_; }
  bool bodyDone() const override { return req_->ended && req_->body.empty(); }
  std::optional<uint64_t> bodyLength() const override;
  asio::awaitable<std::optional<std::string>> bodyRead() override;
  const HeaderMap* requestTrailers() const override {
    return req_->ended && req_->trailers && req_->trailers->size() > 0 ? &*req_->trailers : nullptr;
  }
  void stopBody() override {
    req_->bodyStopped = true;
    req_->signal.notify();
  }

 private:
  H2Connection& conn_;
  std::shared_ptr<H2Request> req_;
  bool streaming_;
};

class H2Connection : public Http2Codec::Events, public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds, std::shared_ptr<const FilterChain> chain)
      : engine_(engine), worker_(worker), ds_(std::move(ds)), chain_(std::move(chain)),
        hcm_(std::get<HttpConnectionManagerConfig>(chain_->filter)) {}

  Result<void> init() {
    Http2Codec::Limits limits;
    limits.http2 = hcm_.http2;
    limits.maxHeaderListBytes = hcm_.maxRequestHeadersKb * 1024;
    limits.maxHeaders = hcm_.maxHeadersCount;
    auto codec = Http2Codec::create(Http2Codec::Role::Server, limits, *this);
    if (!codec) return Failure(codec.error());
    codec_ = std::move(*codec);
    return {};
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    asio::co_spawn(worker_.ioc, watchDrain(self), asio::detached);
    bool ok = ds_->buffer.empty() || codec_->receive(ds_->buffer);
    ds_->buffer.clear();
    flush();
    char buf[32 * 1024];
    while (ok && codec_->alive() && !closed_) {
      // The idle timeout applies while no stream is open.
      std::optional<Deadline> idle;
      if (requests_.empty() && hcm_.idleTimeout.count() > 0) {
        idle.emplace(worker_.ioc, std::chrono::steady_clock::now() + hcm_.idleTimeout, [self] {
          self->codec_->goaway();
          self->flush();
        });
      }
      boost::system::error_code ec;
      size_t n = co_await ds_->socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || n == 0) break;
      ok = codec_->receive(std::string_view(buf, n));
      flush();
      if (codec_->goawaySent() && requests_.empty()) break;
    }
    // Let the last frames (GOAWAY, final DATA) go out before the socket closes.
    for (int i = 0; i < 100 && writing_ && !closed_; ++i) {
      asio::steady_timer t(worker_.ioc, std::chrono::milliseconds(10));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    shutdown();
  }

  Http2Codec& codec() { return *codec_; }
  Downstream& downstream() { return *ds_; }
  const HttpConnectionManagerConfig& hcm() const { return hcm_; }

  void flush() {
    if (writing_ || closed_) return;
    writing_ = true;
    asio::co_spawn(worker_.ioc, writeLoop(shared_from_this()), asio::detached);
  }

  // Http2Codec::Events
  void onHeaders(int32_t stream, HeaderMap headers, bool endStream) override {
    auto it = requests_.find(stream);
    if (it != requests_.end()) {
      // Trailers on a request end its body; they go upstream after it (router, upstream_*).
      HeaderMap trailers;
      for (auto& [name, value] : headers.entries()) {
        if (!isPseudoHeader(name)) trailers.add(std::move(name), std::move(value));
      }
      it->second->trailers = std::move(trailers);
      it->second->ended = true;
      it->second->signal.notify();
      return;
    }
    auto req = std::make_shared<H2Request>(worker_.ioc.get_executor());
    req->id = stream;
    req->ended = endStream;
    req->head.versionMinor = 1;
    std::string host;
    for (auto& [name, value] : headers.entries()) {
      if (name == ":method") req->head.method = std::move(value);
      else if (name == ":path") req->head.path = std::move(value);
      else if (name == ":authority") req->head.authority = std::move(value);
      else if (name == ":scheme") req->head.scheme = std::move(value);
      else if (name == "host") host = std::move(value);
      else if (isPseudoHeader(name)) continue;
      else if (name.find('_') != std::string::npos && (hcm_.rejectHeadersWithUnderscores || hcm_.dropHeadersWithUnderscores)) {
        if (hcm_.rejectHeadersWithUnderscores) {
          codec_->resetStream(stream, kH2ProtocolError);
          return;
        }
      } else {
        req->head.headers.add(std::move(name), std::move(value));
      }
    }
    if (req->head.authority.empty()) req->head.authority = std::move(host);
    // CONNECT (no :path) only with allow_connect, as in Envoy; nghttp2 checked the rest.
    bool connect = req->head.method == "CONNECT";
    if (connect ? !hcm_.http2.allowConnect : req->head.path.empty()) {
      codec_->resetStream(stream, kH2ProtocolError);
      return;
    }
    requests_[stream] = req;
    asio::co_spawn(worker_.ioc, serveStream(shared_from_this(), req), asio::detached);
  }
  void onData(int32_t stream, std::string_view data) override {
    auto it = requests_.find(stream);
    if (it == requests_.end()) {
      codec_->consume(stream, data.size());
      return;
    }
    it->second->body.append(data);
    it->second->signal.notify();
  }
  void onEndStream(int32_t stream) override {
    auto it = requests_.find(stream);
    if (it == requests_.end()) return;
    it->second->ended = true;
    it->second->signal.notify();
  }
  void onStreamClose(int32_t stream, uint32_t errorCode) override {
    (void)errorCode;
    auto it = requests_.find(stream);
    if (it == requests_.end()) return;
    auto req = it->second;
    if (!req->responseEnded || !req->ended) req->reset = true;
    if (!req->body.empty()) codec_->consume(stream, req->body.size());
    req->body.clear();
    req->signal.notify();
    requests_.erase(it);
  }
  void onSendProgress(int32_t stream) override {
    auto it = requests_.find(stream);
    if (it != requests_.end()) it->second->signal.notify();
  }

 private:
  static asio::awaitable<void> serveStream(std::shared_ptr<H2Connection> self, std::shared_ptr<H2Request> req) {
    try {
      // Bodies are buffered up to the limit so retries and mirrors can replay them, as over
      // HTTP/1.1; gRPC bodies stream from the start unless already complete.
      bool grpc = isGrpcRequest(req->head.headers);
      const uint64_t limit = self->engine_.options.maxRequestBodyBytes;
      size_t acknowledged = 0;
      bool tunnel = req->head.method == "CONNECT";  // its DATA is the tunnel: never buffered
      while (!req->ended && !req->reset && !grpc && !tunnel && req->body.size() <= limit) {
        self->codec_->consume(req->id, req->body.size() - acknowledged);
        acknowledged = req->body.size();
        self->flush();
        co_await req->signal.wait();
      }
      if (req->reset) co_return;
      self->codec_->consume(req->id, req->body.size() - acknowledged);
      self->flush();
      bool streaming = !req->ended;
      std::string body = std::move(req->body);
      req->body.clear();
      self->engine_.requests.fetch_add(1, std::memory_order_relaxed);
      Http2Stream stream(*self, req, streaming);
      co_await routeRequest(self->engine_, self->worker_, stream, self->hcm_, std::move(req->head), std::move(body));
    } catch (const std::exception&) {
      // Allocation failure: the stream is reset below.
    }
    if (!req->reset && !req->responseEnded) {
      self->codec_->resetStream(req->id, kH2InternalError);  // the response broke off
    } else if (!req->reset && !req->ended) {
      self->codec_->resetStream(req->id, kH2NoError);  // answered before the body ended (RFC 9113 8.1)
    }
    self->flush();
  }

  static asio::awaitable<void> writeLoop(std::shared_ptr<H2Connection> self) {
    for (;;) {
      std::string out = self->codec_->takeOutput();
      if (out.empty() || self->closed_) break;
      boost::system::error_code ec;
      co_await asio::async_write(self->ds_->socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        self->writing_ = false;
        self->shutdown();
        co_return;
      }
    }
    self->writing_ = false;
    // Also when nghttp2 ended the session itself (a bad preface: GOAWAY "SETTINGS expected").
    if ((self->codec_->goawaySent() && self->requests_.empty()) || !self->codec_->alive()) {
      boost::system::error_code ignored;
      self->ds_->socket.shutdown(tcp::socket::shutdown_both, ignored);  // ends the reader
    }
  }

  // Drain: GOAWAY once; streams already started finish, then the connection closes.
  static asio::awaitable<void> watchDrain(std::shared_ptr<H2Connection> self) {
    while (!self->closed_) {
      if (self->engine_.draining.load() && !self->codec_->goawaySent()) {
        self->codec_->goaway();
        self->flush();
      }
      asio::steady_timer t(self->worker_.ioc, kDrainPoll);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    for (auto& [id, req] : requests_) {
      req->reset = true;
      req->signal.notify();
    }
    requests_.clear();
    boost::system::error_code ignored;
    ds_->socket.close(ignored);
  }

  Engine& engine_;
  Worker& worker_;
  std::shared_ptr<Downstream> ds_;
  std::shared_ptr<const FilterChain> chain_;
  const HttpConnectionManagerConfig& hcm_;
  std::unique_ptr<Http2Codec> codec_;
  std::unordered_map<int32_t, std::shared_ptr<H2Request>> requests_;
  bool writing_ = false;
  bool closed_ = false;
};

Downstream& Http2Stream::connection() { return conn_.downstream(); }

HeaderMap responseHeaders(unsigned status, const HeaderMap& headers, std::optional<uint64_t> length) {
  HeaderMap h;
  h.add(":status", std::to_string(status));
  for (const auto& [name, value] : headers.entries()) {
    // Connection-specific fields are not allowed in HTTP/2 (RFC 9113 8.2.2).
    if (name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" ||
        name == "upgrade" || name == "content-length") {
      continue;
    }
    h.add(name, value);
  }
  if (length) h.add("content-length", std::to_string(*length));
  return h;
}

asio::awaitable<bool> Http2Stream::sendLocalReply(unsigned status, std::string_view body, const HeaderMap* extra) {
  if (req_->reset) co_return false;
  HeaderMap h;
  if (!body.empty() && !(extra != nullptr && extra->has("content-type"))) h.add("content-type", "text/plain");
  if (extra != nullptr) {
    for (const auto& [k, v] : extra->entries()) h.add(k, v);
  }
  h.add("date", httpDate());
  h.add("server", conn_.hcm().serverName);
  bool ok = conn_.codec().submitResponse(req_->id, responseHeaders(status, h, body.size()), body.empty());
  if (ok && !body.empty()) ok = conn_.codec().sendData(req_->id, body, true);
  req_->responseEnded = ok;
  conn_.flush();
  co_return ok;
}

asio::awaitable<bool> Http2Stream::sendHead(ResponseHead head, std::optional<uint64_t> length, bool noBody) {
  if (req_->reset) co_return false;
  bool ok = conn_.codec().submitResponse(req_->id, responseHeaders(head.status, head.headers, length), noBody);
  if (noBody) req_->responseEnded = ok;
  conn_.flush();
  co_return ok;
}

asio::awaitable<bool> Http2Stream::sendBody(std::string_view data) {
  if (data.empty()) co_return !req_->reset;
  // Flow control: wait while the client has not taken what is queued.
  while (!req_->reset && conn_.codec().pendingBytes(req_->id) > kSendHighWater) co_await req_->signal.wait();
  if (req_->reset || !conn_.codec().sendData(req_->id, data, false)) co_return false;
  conn_.flush();
  co_return true;
}

asio::awaitable<bool> Http2Stream::sendEnd(const HeaderMap* trailers) {
  if (req_->reset) co_return false;
  bool ok = trailers != nullptr && trailers->size() > 0 ? conn_.codec().sendTrailers(req_->id, *trailers)
                                                         : conn_.codec().sendData(req_->id, {}, true);
  req_->responseEnded = ok;
  conn_.flush();
  co_return ok;
}

std::optional<uint64_t> Http2Stream::bodyLength() const {
  auto v = req_->head.headers.get("content-length");
  uint64_t n = 0;
  if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc()) return std::nullopt;
  return n;
}

asio::awaitable<std::optional<std::string>> Http2Stream::bodyRead() {
  for (;;) {
    if (req_->bodyStopped) co_return std::nullopt;
    if (!req_->body.empty()) {
      std::string out = std::move(req_->body);
      req_->body.clear();
      conn_.codec().consume(req_->id, out.size());
      conn_.flush();
      co_return out;
    }
    if (req_->ended) co_return std::string();
    if (req_->reset) co_return std::nullopt;
    co_await req_->signal.wait();
  }
}

}  // namespace

asio::awaitable<void> serveHttp2(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                 std::shared_ptr<const FilterChain> chain) {
  auto conn = std::make_shared<H2Connection>(engine, worker, std::move(ds), std::move(chain));
  if (!conn->init()) co_return;
  co_await conn->run();
}

asio::awaitable<void> serveHttpAuto(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                    std::shared_ptr<const FilterChain> chain) {
  using Codec = HttpConnectionManagerConfig::Codec;
  Codec codec = std::get<HttpConnectionManagerConfig>(chain->filter).codec;
  // Over TLS, ALPN decides as in Envoy; without ALPN the bytes do.
  if (codec == Codec::Auto && ds->info.negotiatedAlpn == "h2") codec = Codec::Http2;
  if (codec == Codec::Auto && ds->info.negotiatedAlpn.starts_with("http/1")) codec = Codec::Http1;
  if (codec == Codec::Auto) {
    // Read until the bytes stop matching the preface or the whole preface is here.
    auto idle = std::get<HttpConnectionManagerConfig>(chain->filter).idleTimeout;
    Deadline deadline(worker.ioc, std::chrono::steady_clock::now() + (idle.count() > 0 ? idle : std::chrono::hours(1)),
                      [weak = std::weak_ptr<Downstream>(ds)] {
                        if (auto d = weak.lock()) {
                          boost::system::error_code ignored;
                          d->socket.close(ignored);
                        }
                      });
    while (ds->buffer.size() < kClientPreface.size() && kClientPreface.starts_with(ds->buffer)) {
      char chunk[64];
      boost::system::error_code ec;
      size_t n = co_await ds->socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || n == 0) co_return;
      ds->buffer.append(chunk, n);
    }
    codec = ds->buffer.starts_with(kClientPreface) ? Codec::Http2 : Codec::Http1;
  }
  if (codec == Codec::Http2) {
    co_await serveHttp2(engine, worker, std::move(ds), std::move(chain));
  } else {
    co_await serveHttp(engine, worker, std::move(ds), std::move(chain));
  }
}

}  // namespace mesh::proxy::dataplane
