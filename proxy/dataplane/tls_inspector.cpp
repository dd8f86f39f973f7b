// ClientHello parsing for the tls_inspector: see tls_inspector.h. Every length is checked
// against what remains before it is used.
#include "proxy/dataplane/tls_inspector.h"

#include <cstdint>
#include <optional>

namespace mesh::proxy::dataplane {

namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr size_t kMaxRecordPayload = (1 << 14) + 2048;  // TLSPlaintext's limit plus slack

// A cursor over bytes that fails instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  std::optional<uint32_t> number(size_t bytes) {
    if (remaining() < bytes) return std::nullopt;
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += bytes;
    return v;
  }
  std::optional<std::string_view> take(size_t n) {
    if (remaining() < n) return std::nullopt;
    auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A block preceded by its length in `lengthBytes` bytes.
  std::optional<std::string_view> block(size_t lengthBytes) {
    auto n = number(lengthBytes);
    if (!n) return std::nullopt;
    return take(*n);
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool parseServerName(std::string_view ext, ClientHello& out) {
  Reader r(ext);
  auto list = r.block(2);
  if (!list || r.remaining() != 0) return false;
  Reader names(*list);
  while (names.remaining() > 0) {
    auto type = names.number(1);
    auto name = names.block(2);
    if (!type || !name) return false;
    if (*type == 0 && out.serverName.empty()) out.serverName = lowerAscii(*name);
  }
  return true;
}

bool parseAlpn(std::string_view ext, ClientHello& out) {
  Reader r(ext);
  auto list = r.block(2);
  if (!list || r.remaining() != 0) return false;
  Reader protocols(*list);
  while (protocols.remaining() > 0) {
    auto p = protocols.block(1);
    if (!p || p->empty()) return false;
    out.alpn.emplace_back(*p);
  }
  return true;
}

// The handshake message body (after its 4-byte header).
ClientHello::Status parseBody(std::string_view body, ClientHello& out) {
  Reader r(body);
  auto version = r.number(2);
  if (!version || (*version >> 8) != 3) return ClientHello::Status::Malformed;
  if (!r.take(32) || !r.block(1)) return ClientHello::Status::Malformed;  // random, session id
  auto ciphers = r.block(2);
  if (!ciphers || ciphers->empty() || ciphers->size() % 2 != 0) return ClientHello::Status::Malformed;
  if (!r.block(1)) return ClientHello::Status::Malformed;  // compression methods
  if (r.remaining() == 0) return ClientHello::Status::Done;  // no extensions
  auto extensions = r.block(2);
  if (!extensions || r.remaining() != 0) return ClientHello::Status::Malformed;
  Reader ext(*extensions);
  while (ext.remaining() > 0) {
    auto type = ext.number(2);
    auto data = ext.block(2);
    if (!type || !data) return ClientHello::Status::Malformed;
    if (*type == kServerNameExtension && !parseServerName(*data, out)) return ClientHello::Status::Malformed;
    if (*type == kAlpnExtension && !parseAlpn(*data, out)) return ClientHello::Status::Malformed;
  }
  return ClientHello::Status::Done;
}

}  // namespace

ClientHello parseClientHello(std::string_view bytes) {
  ClientHello out;
  if (bytes.empty()) return out;  // NeedMore
  if (static_cast<uint8_t>(bytes[0]) != kHandshakeRecord) {
    out.status = ClientHello::Status::NotTls;
    return out;
  }
  // Reassemble the handshake bytes from consecutive handshake records.
  std::string handshake;
  Reader records(bytes.substr(0, std::min(bytes.size(), kMaxClientHelloBytes)));
  for (;;) {
    if (records.remaining() < 5) break;
    auto type = records.number(1);
    auto version = records.number(2);
    auto length = records.number(2);
    if (*type != kHandshakeRecord || (*version >> 8) != 3 || *length == 0 || *length > kMaxRecordPayload) {
      out.status = ClientHello::Status::Malformed;
      return out;
    }
    auto payload = records.take(*length);
    if (!payload) {
      handshake.append(records.take(records.remaining()).value_or(std::string_view()));
      break;
    }
    handshake.append(*payload);
    if (handshake.size() >= 4) {
      Reader h(handshake);
      auto msgType = h.number(1);
      auto msgLength = h.number(3);
      if (*msgType != kClientHelloType || *msgLength + 4 > kMaxClientHelloBytes) {
        out.status = ClientHello::Status::Malformed;
        return out;
      }
      if (h.remaining() >= *msgLength) {
        out.status = parseBody(handshake.substr(4, *msgLength), out);
        if (out.status != ClientHello::Status::Done) {
          out.serverName.clear();
          out.alpn.clear();
        }
        return out;
      }
    }
  }
  // Incomplete: more may come, unless the bound is reached already.
  out.status = bytes.size() >= kMaxClientHelloBytes ? ClientHello::Status::Malformed : ClientHello::Status::NeedMore;
  if (handshake.size() >= 1 && static_cast<uint8_t>(handshake[0]) != kClientHelloType) {
    out.status = ClientHello::Status::Malformed;
  }
  return out;
}

}  // namespace mesh::proxy::dataplane
