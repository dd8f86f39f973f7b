// Strict HTTP/1.1 codec: see http1_codec.h. Beast does the tokenising; the rules Beast leaves
// open (obs-fold, repeated Content-Length, unknown transfer codings, header count, Host) are
// enforced here.
#include "proxy/dataplane/http1_codec.h"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <limits>

namespace mesh::proxy::dataplane {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

std::string lowerAscii(string_view s) {
  std::string out(s.data(), s.size());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Fields a trailer must not carry (RFC 9110 6.5.1: framing, routing, request modifiers,
// authentication); Envoy's codecs leave them out of forwarded trailers too.
bool isTrailerAllowed(http::field f) {
  switch (f) {
    case http::field::content_length:
    case http::field::transfer_encoding:
    case http::field::host:
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::te:
    case http::field::trailer:
    case http::field::upgrade:
    case http::field::expect:
    case http::field::authorization:
    case http::field::proxy_authorization:
    case http::field::set_cookie:
    case http::field::content_type:
    case http::field::content_encoding:
    case http::field::content_range:
      return false;
    default: return true;
  }
}

}  // namespace

class Http1Parser::Impl {
 public:
  template <bool isRequest>
  class Parser : public http::basic_parser<isRequest> {
   public:
    explicit Parser(Http1Parser& owner) : owner_(owner) {}
    uint32_t fields = 0;
    uint32_t contentLengths = 0;

   private:
    void on_request_impl(http::verb, string_view method, string_view target, int version,
                         error_code& ec) override {
      if (version != 11 && version != 10) {
        ec = http::error::bad_version;
        return;
      }
      owner_.request_.method.assign(method.data(), method.size());
      owner_.request_.versionMinor = static_cast<unsigned>(version % 10);
      std::string_view t(target.data(), target.size());
      if (t.starts_with("http://") || t.starts_with("https://")) {
        // absolute-form (RFC 9112 3.2.2): the authority replaces Host.
        size_t schemeEnd = t.find("://");
        owner_.request_.scheme = std::string(t.substr(0, schemeEnd));
        std::string_view rest = t.substr(schemeEnd + 3);
        size_t slash = rest.find_first_of("/?");
        owner_.request_.authority = std::string(rest.substr(0, slash));
        owner_.request_.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (owner_.request_.path.front() == '?') owner_.request_.path.insert(0, "/");
        owner_.sawHost_ = true;
      } else {
        owner_.request_.path = std::string(t);
      }
    }
    void on_response_impl(int code, string_view reason, int, error_code&) override {
      owner_.response_.status = static_cast<unsigned>(code);
      owner_.response_.reason.assign(reason.data(), reason.size());
    }
    void on_field_impl(http::field f, string_view name, string_view value, error_code& ec) override {
      if (++fields > owner_.limits_.maxHeaders) {
        owner_.error_ = ParseError{431, "http1.too_many_headers"};
        ec = http::error::header_limit;
        return;
      }
      std::string lname = lowerAscii(name);
      std::string_view v(value.data(), value.size());
      if (this->is_header_done()) {  // the trailer section of a chunked body
        if (!isTrailerAllowed(f)) return;
        owner_.trailers_.add(std::move(lname), std::string(trim(v)));
        return;
      }
      if (f == http::field::content_length) {
        // Envoy refuses any repeated Content-Length, even with equal values.
        if (++contentLengths > 1 || v.find(',') != std::string_view::npos) {
          owner_.error_ = ParseError{400, "http1.content_length_not_allowed"};
          ec = http::error::bad_content_length;
          return;
        }
      } else if (f == http::field::transfer_encoding) {
        if (lowerAscii(string_view(trim(v).data(), trim(v).size())) != "chunked") {
          owner_.error_ = ParseError{501, "http1.invalid_transfer_encoding"};
          ec = http::error::bad_transfer_encoding;
          return;
        }
      } else if (f == http::field::expect && isRequest) {
        owner_.expectContinue_ = lowerAscii(string_view(trim(v).data(), trim(v).size())) == "100-continue";
        return;  // handled by the proxy, not forwarded (Envoy answers 100 itself)
      }
      if (lname.find('_') != std::string::npos && isRequest) {
        if (owner_.limits_.rejectUnderscoreHeaders) {
          owner_.error_ = ParseError{400, "http1.unexpected_underscore"};
          ec = http::error::bad_field;
          return;
        }
        if (owner_.limits_.dropUnderscoreHeaders) return;
      }
      if (isRequest && f == http::field::host) {
        if (owner_.sawHost_ && owner_.request_.authority.empty()) {
          owner_.error_ = ParseError{400, "http1.duplicate_host"};
          ec = http::error::bad_field;
          return;
        }
        if (!owner_.sawHost_) owner_.request_.authority = std::string(trim(v));
        owner_.sawHost_ = true;
        return;
      }
      auto& headers = isRequest ? owner_.request_.headers : owner_.response_.headers;
      if (headers.size() == 0) headers.entries().reserve(8);  // a typical head, without regrowing
      headers.add(std::move(lname), std::string(trim(v)));
    }
    void on_header_impl(error_code& ec) override {
      if (isRequest && owner_.request_.versionMinor == 1 && !owner_.sawHost_) {
        owner_.error_ = ParseError{400, "http1.missing_host_header"};
        ec = http::error::bad_field;
      }
    }
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override {
      owner_.body_.append(body.data(), body.size());
      return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
      owner_.body_.append(body.data(), body.size());
      return body.size();
    }
    void on_finish_impl(error_code&) override {}

    Http1Parser& owner_;
  };

  Impl(Http1Parser& owner, Kind kind) {
    if (kind == Kind::Request) request.emplace(owner);
    else response.emplace(owner);
  }
  template <class F>
  auto visit(F&& f) {
    return request ? f(*request) : f(*response);
  }
  std::optional<Parser<true>> request;
  std::optional<Parser<false>> response;
};

Http1Parser::Http1Parser(Kind kind, const ParseLimits& limits)
    : impl_(std::make_unique<Impl>(*this, kind)), limits_(limits), kind_(kind) {
  impl_->visit([&](auto& p) {
    p.eager(true);
    p.header_limit(limits.maxHeaderBytes);
    if (limits.maxBodyBytes) p.body_limit(*limits.maxBodyBytes);
    // Beast 1.74 compares the length against an empty optional as "over the limit".
    else p.body_limit(std::numeric_limits<std::uint64_t>::max());
  });
}

Http1Parser::~Http1Parser() = default;

size_t Http1Parser::parse(std::string_view data) {
  if (failed() || data.empty()) return 0;
  if (!headerDone()) {
    // obs-fold (a header line starting with SP or HT) is refused: RFC 9112 5.2 allows a
    // server to reject it, and Beast would silently unfold it.
    size_t end = data.find("\r\n\r\n");
    std::string_view head = data.substr(0, end == std::string_view::npos ? data.size() : end + 2);
    size_t firstLineEnd = head.find('\n');
    if (firstLineEnd != std::string_view::npos) {
      std::string_view fields = head.substr(firstLineEnd);
      if (fields.find("\n ") != std::string_view::npos || fields.find("\n\t") != std::string_view::npos) {
        error_ = ParseError{400, "http1.codec_error"};
        return 0;
      }
    }
    if (end == std::string_view::npos && data.size() > limits_.maxHeaderBytes) {
      error_ = ParseError{431, "http1.headers_too_large"};
      return 0;
    }
  }
  error_code ec;
  size_t used = impl_->visit([&](auto& p) {
    return p.put(boost::asio::const_buffer(data.data(), data.size()), ec);
  });
  if (ec == http::error::need_more) {
    // A chunk header or trailer section that does not end: bounded like a head.
    if (headerDone() && data.size() - used > limits_.maxHeaderBytes) {
      error_ = ParseError{431, "http1.headers_too_large"};
    }
    return used;
  }
  if (ec) {
    if (!error_) {
      if (ec == http::error::header_limit) error_ = ParseError{431, "http1.headers_too_large"};
      else if (ec == http::error::body_limit) error_ = ParseError{413, "request_payload_too_large"};
      else error_ = ParseError{400, "http1.codec_error"};
      error_->detail += " (" + ec.message() + ")";
    }
  }
  return used;
}

void Http1Parser::finishOnEof() {
  error_code ec;
  impl_->visit([&](auto& p) {
    p.put_eof(ec);
    return 0;
  });
  if (ec && !error_) error_ = ParseError{502, "upstream_reset_before_response_complete"};
}

void Http1Parser::skipBody() {
  impl_->visit([](auto& p) {
    p.skip(true);
    return 0;
  });
}

bool Http1Parser::headerDone() const {
  return impl_->request ? impl_->request->is_header_done() : impl_->response->is_header_done();
}
bool Http1Parser::messageDone() const {
  return impl_->request ? impl_->request->is_done() : impl_->response->is_done();
}
bool Http1Parser::keepAlive() const {
  return impl_->request ? impl_->request->keep_alive() : impl_->response->keep_alive();
}
bool Http1Parser::chunked() const {
  return impl_->request ? impl_->request->chunked() : impl_->response->chunked();
}
bool Http1Parser::needEof() const {
  return impl_->request ? impl_->request->need_eof() : impl_->response->need_eof();
}
std::optional<uint64_t> Http1Parser::contentLength() const {
  auto v = impl_->request ? impl_->request->content_length() : impl_->response->content_length();
  return v ? std::optional<uint64_t>(*v) : std::nullopt;
}

std::string Http1Parser::takeBody() {
  std::string out;
  out.swap(body_);
  return out;
}

namespace {
void appendHeaders(std::string& out, const HeaderMap& headers) {
  for (const auto& [k, v] : headers.entries()) {
    out.append(k).append(": ").append(v).append("\r\n");
  }
}

// Room for a head with these headers, so it is serialised in one allocation.
size_t headCapacity(std::string_view startLine, const HeaderMap& headers) {
  size_t n = startLine.size() + 128;  // framing headers and the final CRLF
  for (const auto& [k, v] : headers.entries()) n += k.size() + v.size() + 4;
  return n;
}
}  // namespace

std::string serializeRequestHead(const RequestHead& head, std::optional<uint64_t> contentLength,
                                 bool chunked) {
  std::string out;
  out.reserve(headCapacity(head.path, head.headers) + head.method.size() + head.authority.size());
  out.append(head.method).append(" ").append(head.path).append(" HTTP/1.1\r\nhost: ");
  out.append(head.authority).append("\r\n");
  appendHeaders(out, head.headers);
  if (chunked) out.append("transfer-encoding: chunked\r\n");
  else if (contentLength) out.append("content-length: ").append(std::to_string(*contentLength)).append("\r\n");
  out.append("\r\n");
  return out;
}

std::string serializeResponseHead(const ResponseHead& head, std::optional<uint64_t> contentLength,
                                  bool chunked, bool close) {
  std::string out;
  out.reserve(headCapacity(head.reason, head.headers));
  out.append("HTTP/1.1 ").append(std::to_string(head.status)).append(" ");
  out.append(head.reason.empty() ? std::string(reasonPhrase(head.status)) : head.reason).append("\r\n");
  appendHeaders(out, head.headers);
  if (chunked) out.append("transfer-encoding: chunked\r\n");
  else if (contentLength) out.append("content-length: ").append(std::to_string(*contentLength)).append("\r\n");
  if (close) out.append("connection: close\r\n");
  out.append("\r\n");
  return out;
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n)).append(data).append("\r\n");
}

void appendLastChunk(std::string& out, const HeaderMap* trailers) {
  out.append("0\r\n");
  if (trailers != nullptr) appendHeaders(out, *trailers);
  out.append("\r\n");
}

void removeHopByHopHeaders(HeaderMap& headers) {
  // Headers named in Connection are hop-by-hop too.
  if (auto conn = headers.getJoined("connection")) {
    std::string_view list = *conn;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string token = lowerAscii(string_view(trim(list.substr(0, comma)).data(), trim(list.substr(0, comma)).size()));
      if (!token.empty() && token != "te") headers.remove(token);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  for (const char* h : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                        "content-length", "te", "trailer", "expect"}) {
    headers.remove(h);
  }
}

}  // namespace mesh::proxy::dataplane
