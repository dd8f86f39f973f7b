// TLS contexts and handshake results: see tls_context.h. OpenSSL's API directly on the
// SSL_CTX that asio::ssl::context wraps.
#include "proxy/dataplane/tls_context.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <deque>

namespace mesh::proxy::dataplane {

namespace {

Failure tlsError(const std::string& where, const std::string& what) {
  std::string detail;
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail = std::string(" (") + buf + ")";
  }
  ERR_clear_error();
  return fail(ErrorCode::InvalidInput, where + ": " + what + detail);
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The sessions an upstream context keeps for resumption, per host (Envoy keeps
// max_session_keys per context; per host, one server's session is never offered to another).
// Shared by the workers, locked; owns one reference to each session.
class ClientSessionCache {
 public:
  explicit ClientSessionCache(size_t perHost) : perHost_(perHost) {}
  ClientSessionCache(const ClientSessionCache&) = delete;
  ClientSessionCache& operator=(const ClientSessionCache&) = delete;
  ~ClientSessionCache() {
    for (auto& [host, sessions] : hosts_) {
      for (SSL_SESSION* s : sessions) SSL_SESSION_free(s);
    }
  }

  void put(const std::string& host, SSL_SESSION* session) {  // takes the reference
    std::lock_guard lock(mu_);
    auto it = hosts_.find(host);
    if (it == hosts_.end()) {
      if (hosts_.size() >= kMaxHosts) {
        for (SSL_SESSION* s : hosts_.begin()->second) SSL_SESSION_free(s);
        hosts_.erase(hosts_.begin());
      }
      it = hosts_.emplace(host, std::deque<SSL_SESSION*>{}).first;
    }
    it->second.push_front(session);
    while (it->second.size() > perHost_) {
      SSL_SESSION_free(it->second.back());
      it->second.pop_back();
    }
  }

  // The newest unexpired session for `host` (a new reference), or null.
  SSL_SESSION* latest(const std::string& host) {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(host);
    if (it == hosts_.end()) return nullptr;
    auto now = static_cast<long>(std::time(nullptr));
    while (!it->second.empty()) {
      SSL_SESSION* s = it->second.front();
      if (SSL_SESSION_get_time(s) + SSL_SESSION_get_timeout(s) > now) {
        SSL_SESSION_up_ref(s);
        return s;
      }
      SSL_SESSION_free(s);
      it->second.pop_front();
    }
    return nullptr;
  }

 private:
  static constexpr size_t kMaxHosts = 4096;
  size_t perHost_;
  std::mutex mu_;
  std::map<std::string, std::deque<SSL_SESSION*>> hosts_;
};

// A context with what every mesh TLS socket shares; owns what its callbacks read (the ALPN
// list, ticket keys, the upstream session cache), so the asio context handed out aliases it.
struct ContextHolder {
  ContextHolder() : ctx(asio::ssl::context::tls) {}
  asio::ssl::context ctx;
  std::string alpnWire;  // length-prefixed protocol names
  std::string identity;  // what a resumed session vouches for: certificates, trust, demands
  std::vector<TicketKey> ticketKeys;  // explicit session ticket keys; the first encrypts
  std::unique_ptr<ClientSessionCache> sessions;  // upstream contexts with max_session_keys > 0
};

// Where an SSL_CTX's holder is found by its callbacks.
int holderIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

ContextHolder* holderOf(SSL* ssl) {
  return static_cast<ContextHolder*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), holderIndex()));
}

void freeHostKey(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::string*>(ptr); }

// The upstream host an SSL's sessions are kept for (an owned std::string).
int hostIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeHostKey);
  return index;
}

// OpenSSL's new-session callback on upstream contexts: TLS 1.3 tickets arrive after the
// handshake, so sessions are kept as they come rather than taken when the handshake ends.
int keepUpstreamSession(SSL* ssl, SSL_SESSION* session) {
  ContextHolder* holder = holderOf(ssl);
  const auto* host = static_cast<const std::string*>(SSL_get_ex_data(ssl, hostIndex()));
  if (holder == nullptr || !holder->sessions || host == nullptr || SSL_SESSION_is_resumable(session) != 1) return 0;
  holder->sessions->put(*host, session);
  return 1;  // the cache holds the reference
}

bool setTicketMacKey(EVP_MAC_CTX* mac, const std::string& key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<char*>(key.data()), key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

// Envoy's ticket scheme with explicit keys: AES-256-CBC and HMAC-SHA256 under the first key;
// a ticket under another listed key is accepted and replaced (2), an unknown one is not (0).
int ticketKeyCallback(SSL* ssl, unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt) {
  ContextHolder* holder = holderOf(ssl);
  if (holder == nullptr || holder->ticketKeys.empty()) return -1;
  if (encrypt == 1) {
    const TicketKey& key = holder->ticketKeys.front();
    std::memcpy(keyName, key.name.data(), 16);
    if (RAND_bytes(iv, 16) != 1) return -1;
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr,
                           reinterpret_cast<const unsigned char*>(key.aesKey.data()), iv) != 1 ||
        !setTicketMacKey(mac, key.hmacKey)) {
      return -1;
    }
    return 1;
  }
  for (size_t i = 0; i < holder->ticketKeys.size(); ++i) {
    const TicketKey& key = holder->ticketKeys[i];
    if (std::memcmp(keyName, key.name.data(), 16) != 0) continue;
    if (!setTicketMacKey(mac, key.hmacKey) ||
        EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr,
                           reinterpret_cast<const unsigned char*>(key.aesKey.data()), iv) != 1) {
      return -1;
    }
    return i == 0 ? 1 : 2;
  }
  return 0;
}

std::string sha256(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string alpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

// Envoy's server side: the first of our protocols that the client offers; none in common
// carries on without ALPN.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLen, const unsigned char* in, unsigned inLen,
               void* arg) {
  const auto* holder = static_cast<const ContextHolder*>(arg);
  unsigned char* selected = nullptr;
  const auto* ours = reinterpret_cast<const unsigned char*>(holder->alpnWire.data());
  if (SSL_select_next_proto(&selected, outLen, ours, static_cast<unsigned>(holder->alpnWire.size()), in, inLen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int acceptAnyChain(int, X509_STORE_CTX*) { return 1; }

Result<void> useCertificate(SSL_CTX* ctx, const std::string& chainPem, const std::string& keyPem,
                            const std::string& where) {
  auto bio = memBio(chainPem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) return tlsError(where + ".certificate_chain", "no PEM certificate");
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) return tlsError(where + ".certificate_chain", "certificate rejected");
  while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, next) != 1) {
      X509_free(next);
      return tlsError(where + ".certificate_chain", "chain certificate rejected");
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
  auto keyBio = memBio(keyPem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return tlsError(where + ".private_key", "no PEM private key");
  ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return tlsError(where + ".private_key", "does not match the certificate");
  }
  return {};
}

Result<void> trustCas(SSL_CTX* ctx, const std::string& pem, const std::string& where) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  auto bio = memBio(pem);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);
    X509_free(ca);
    ++added;
  }
  ERR_clear_error();
  if (added == 0) return tlsError(where, "no PEM certificate in the trusted CA");
  return {};
}

Result<std::shared_ptr<ContextHolder>> buildCommon(const TlsCommonConfig& c, const SecretStore* secrets, bool server) {
  auto holder = std::make_shared<ContextHolder>();
  SSL_CTX* ctx = holder->ctx.native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // resumption is set up per side
  SSL_CTX_set_ex_data(ctx, holderIndex(), holder.get());
  if (SSL_CTX_set_min_proto_version(ctx, c.minVersion != 0 ? c.minVersion : TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, c.maxVersion != 0 ? c.maxVersion : TLS1_3_VERSION) != 1) {
    return tlsError(c.where + ".common_tls_context.tls_params", "unsupported protocol version");
  }
  if (!c.cipherList.empty() && SSL_CTX_set_cipher_list(ctx, c.cipherList.c_str()) != 1) {
    return tlsError(c.where + ".common_tls_context.tls_params.cipher_suites", "no usable cipher suite");
  }
  if (!c.curves.empty() && SSL_CTX_set1_groups_list(ctx, c.curves.c_str()) != 1) {
    return tlsError(c.where + ".common_tls_context.tls_params.ecdh_curves", "unknown curve");
  }
  for (size_t i = 0; i < c.certificates.size(); ++i) {
    const auto& source = c.certificates[i];
    if (!source.sdsName.empty()) {
      auto secret = secrets != nullptr ? secrets->get(source.sdsName) : nullptr;
      if (!secret || !secret->hasCertificate()) {
        return fail(ErrorCode::Unavailable, "secret \"" + source.sdsName + "\" is not ready");
      }
      auto used = useCertificate(ctx, secret->certificateChainPem, secret->privateKeyPem,
                                 c.where + " (SDS secret " + source.sdsName + ")");
      if (!used) return Failure(used.error());
      holder->identity += secret->certificateChainPem;
    } else {
      auto used = useCertificate(ctx, source.chainPem, source.keyPem,
                                 c.where + ".common_tls_context.tls_certificates[" + std::to_string(i) + "]");
      if (!used) return Failure(used.error());
      holder->identity += source.chainPem;
    }
  }
  std::string trusted = c.trustedCaPem;
  if (!c.validationSdsName.empty()) {
    auto secret = secrets != nullptr ? secrets->get(c.validationSdsName) : nullptr;
    if (!secret || !secret->hasValidation()) {
      return fail(ErrorCode::Unavailable, "secret \"" + c.validationSdsName + "\" is not ready");
    }
    trusted += "\n" + secret->trustedCaPem;
  }
  if (!trusted.empty() && trusted != "\n") {
    auto ok = trustCas(ctx, trusted, c.where + ".common_tls_context.validation_context.trusted_ca");
    if (!ok) return Failure(ok.error());
  } else if (!server && !c.acceptUntrusted) {
    SSL_CTX_set_default_verify_paths(ctx);  // verified by default: the system's roots
  }
  holder->alpnWire = alpnWire(c.alpn);
  holder->identity += "|trust:" + trusted + (c.acceptUntrusted ? "|accept-untrusted" : "");
  return holder;
}

std::shared_ptr<asio::ssl::context> aliasContext(const std::shared_ptr<ContextHolder>& holder) {
  return std::shared_ptr<asio::ssl::context>(holder, &holder->ctx);
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string pemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bioText(bio.get());
}

// SANs of one type (GEN_URI, GEN_DNS, …) as text; IP addresses in their numeric form.
std::vector<std::string> sansOf(X509* cert, int type) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != type) continue;
    if (type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(n->d.iPAddress);
      const unsigned char* raw = ASN1_STRING_get0_data(n->d.iPAddress);
      if (len == 4 || len == 16) inet_ntop(len == 4 ? AF_INET : AF_INET6, raw, buf, sizeof buf);
      out.emplace_back(buf);
      continue;
    }
    const ASN1_IA5STRING* s = n->d.ia5;  // URI, DNS and email are IA5 strings
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Envoy's downstream session resumption: tickets (explicit keys, from SDS, or the context's own
// random ones), the server-side session cache, their lifetime. The session id context ties a
// session to this context's certificates, trust and client-certificate demands, so a session
// never resumes where they differ (e.g. after a rotation, with explicit keys).
Result<void> configureResumption(ContextHolder& holder, const DownstreamTlsConfig& config,
                                 const SecretStore* secrets) {
  SSL_CTX* ctx = holder.ctx.native_handle();
  std::string identity = holder.identity + (config.requireClientCertificate ? "|require-client" : "") +
                         (config.common.hasValidation ? "|verify" : "");
  std::string sid = sha256(identity);
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(sid.data()),
                                 static_cast<unsigned>(std::min<size_t>(sid.size(), SSL_MAX_SID_CTX_LENGTH)));
  if (config.sessionTimeoutSeconds) SSL_CTX_set_timeout(ctx, static_cast<long>(*config.sessionTimeoutSeconds));
  SSL_CTX_set_session_cache_mode(ctx, config.disableStatefulResumption ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
  if (config.disableStatelessResumption) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);  // TLS 1.3 then has no resumption, as in Envoy (BoringSSL)
    return {};
  }
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  holder.ticketKeys = config.ticketKeys;
  if (!config.ticketKeysSdsName.empty()) {
    auto secret = secrets != nullptr ? secrets->get(config.ticketKeysSdsName) : nullptr;
    if (!secret || secret->sessionTicketKeys.empty()) {
      return fail(ErrorCode::Unavailable, "secret \"" + config.ticketKeysSdsName + "\" is not ready");
    }
    for (size_t i = 0; i < secret->sessionTicketKeys.size(); ++i) {
      auto key = ticketKeyOf(secret->sessionTicketKeys[i]);
      if (!key) {
        return fail(ErrorCode::InvalidInput, config.common.where + " (SDS secret " + config.ticketKeysSdsName +
                                                 ").session_ticket_keys.keys[" + std::to_string(i) +
                                                 "]: " + key.error().message);
      }
      holder.ticketKeys.push_back(std::move(*key));
    }
  }
  // Without explicit keys OpenSSL's own, random per context, encrypt the tickets.
  if (!holder.ticketKeys.empty()) SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKeyCallback);
  return {};
}

}  // namespace

Result<TicketKey> ticketKeyOf(std::string_view bytes) {
  if (bytes.size() != 80) {
    return fail(ErrorCode::InvalidInput, "a session ticket key must be exactly 80 bytes, not " +
                                             std::to_string(bytes.size()));
  }
  TicketKey key;
  key.name = std::string(bytes.substr(0, 16));
  key.hmacKey = std::string(bytes.substr(16, 32));
  key.aesKey = std::string(bytes.substr(48, 32));
  return key;
}

void resumeUpstreamSession(SSL* ssl, const std::string& host) {
  ContextHolder* holder = ssl != nullptr ? holderOf(ssl) : nullptr;
  if (holder == nullptr || !holder->sessions) return;
  auto* key = new std::string(host);
  if (SSL_set_ex_data(ssl, hostIndex(), key) != 1) {
    delete key;
    return;
  }
  if (SSL_SESSION* session = holder->sessions->latest(host)) {
    SSL_set_session(ssl, session);
    SSL_SESSION_free(session);
  }
}

Result<std::shared_ptr<asio::ssl::context>> buildServerContext(const DownstreamTlsConfig& config,
                                                               const SecretStore* secrets) {
  auto holder = buildCommon(config.common, secrets, true);
  if (!holder) return Failure(holder.error());
  SSL_CTX* ctx = (*holder)->ctx.native_handle();
  if (config.common.certificates.empty()) {
    return fail(ErrorCode::InvalidInput, config.common.where + ".common_tls_context: a server needs a certificate");
  }
  if (config.common.hasValidation) {
    int mode = SSL_VERIFY_PEER;
    if (config.requireClientCertificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, config.common.acceptUntrusted ? acceptAnyChain : nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!(*holder)->alpnWire.empty()) SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, holder->get());
  auto resumption = configureResumption(**holder, config, secrets);
  if (!resumption) return Failure(resumption.error());
  return aliasContext(*holder);
}

Result<std::shared_ptr<asio::ssl::context>> buildClientContext(const UpstreamTlsConfig& config,
                                                               const SecretStore* secrets) {
  auto holder = buildCommon(config.common, secrets, false);
  if (!holder) return Failure(holder.error());
  SSL_CTX* ctx = (*holder)->ctx.native_handle();
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, config.common.acceptUntrusted ? acceptAnyChain : nullptr);
  if (config.maxSessionKeys > 0) {
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, keepUpstreamSession);
    (*holder)->sessions = std::make_unique<ClientSessionCache>(config.maxSessionKeys);
  }
  const std::string& wire = (*holder)->alpnWire;
  // SSL_CTX_set_alpn_protos returns 0 on success.
  if (!wire.empty() &&
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size())) != 0) {
    return tlsError(config.common.where + ".common_tls_context.alpn_protocols", "rejected");
  }
  return aliasContext(*holder);
}

Result<void> checkInlineTls(const TlsCommonConfig& config) {
  TlsCommonConfig inlineOnly = config;
  std::erase_if(inlineOnly.certificates, [](const TlsCertificateSource& c) { return !c.sdsName.empty(); });
  inlineOnly.validationSdsName.clear();
  auto built = buildCommon(inlineOnly, nullptr, true);
  if (!built) return Failure(built.error());
  return {};
}

template <typename Config, typename Build>
Result<std::shared_ptr<asio::ssl::context>> TlsContextCache::get(const std::shared_ptr<const Config>& config,
                                                                 Build build) {
  uint64_t version = secrets_ ? secrets_->version() : 0;
  std::lock_guard lock(mu_);
  auto it = entries_.find(config.get());
  if (it != entries_.end() && !it->second.config.expired() && it->second.version == version) {
    return it->second.context;
  }
  auto built = build(*config, secrets_.get());
  if (!built) return Failure(built.error());
  std::erase_if(entries_, [](const auto& e) { return e.second.config.expired(); });
  entries_[config.get()] = Entry{std::weak_ptr<const void>(config), version, *built};
  return *built;
}

Result<std::shared_ptr<asio::ssl::context>> TlsContextCache::server(
    const std::shared_ptr<const DownstreamTlsConfig>& config) {
  return get(config, buildServerContext);
}

Result<std::shared_ptr<asio::ssl::context>> TlsContextCache::client(
    const std::shared_ptr<const UpstreamTlsConfig>& config) {
  return get(config, buildClientContext);
}

std::shared_ptr<const UpstreamTlsConfig> Cluster::tlsFor(const Endpoint& e) const {
  if (!endpointTls.empty()) {
    auto it = endpointTls.find(e.key());
    if (it != endpointTls.end()) return it->second;
  }
  return tls;
}

std::shared_ptr<const PeerCertificate> peerCertificate(SSL* ssl) {
  if (ssl == nullptr) return nullptr;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return nullptr;
  auto out = std::make_shared<PeerCertificate>();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; ++i) {
      out->sha256Hex.push_back(kHex[md[i] >> 4]);
      out->sha256Hex.push_back(kHex[md[i] & 0xf]);
    }
  }
  BioPtr subject(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(subject.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  out->subject = bioText(subject.get());
  out->uriSans = sansOf(cert, GEN_URI);
  out->dnsSans = sansOf(cert, GEN_DNS);
  out->certPem = pemOf(cert);
  out->chainPem = out->certPem;
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    // A server's chain includes its leaf; a client's does not (OpenSSL's convention).
    for (int i = SSL_is_server(ssl) ? 0 : 1; i < sk_X509_num(chain); ++i) out->chainPem += pemOf(sk_X509_value(chain, i));
  }
  X509_free(cert);
  return out;
}

TlsSession sessionOf(SSL* ssl) {
  TlsSession out;
  if (ssl == nullptr) return out;
  out.peer = peerCertificate(ssl);
  if (X509* local = SSL_get_certificate(ssl)) out.localUriSans = sansOf(local, GEN_URI);
  const unsigned char* alpn = nullptr;
  unsigned alpnLen = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpnLen);
  if (alpn != nullptr) out.alpn.assign(reinterpret_cast<const char*>(alpn), alpnLen);
  return out;
}

bool peerSansMatch(SSL* ssl, const std::vector<SanMatcher>& matchers) {
  if (matchers.empty()) return true;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return false;
  bool matched = false;
  for (const auto& m : matchers) {
    std::vector<int> types;
    switch (m.type) {
      case SanMatcher::Type::Uri: types = {GEN_URI}; break;
      case SanMatcher::Type::Dns: types = {GEN_DNS}; break;
      case SanMatcher::Type::Email: types = {GEN_EMAIL}; break;
      case SanMatcher::Type::Ip: types = {GEN_IPADD}; break;
      case SanMatcher::Type::Any: types = {GEN_URI, GEN_DNS, GEN_EMAIL, GEN_IPADD}; break;
    }
    for (int t : types) {
      for (const auto& san : sansOf(cert, t)) matched = matched || m.match.matches(san);
    }
    if (matched) break;
  }
  X509_free(cert);
  return matched;
}

}  // namespace mesh::proxy::dataplane
