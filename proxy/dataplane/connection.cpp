// One accepted connection: original destination (SO_ORIGINAL_DST, or a local bind's
// target), hand-off to the listener owning that destination as Envoy's use_original_dst does,
// the tls/http inspectors, filter chain selection, then the HTTP or TCP path.
#include "proxy/dataplane/asio_includes.h"

#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/http2_session.h"
#include "proxy/dataplane/tls_handshake.h"
#include "proxy/dataplane/tls_inspector.h"

namespace mesh::proxy::dataplane {

namespace {

std::shared_ptr<const Listener> listenerFor(const RuntimeConfig& config, const std::string& address,
                                            uint32_t port) {
  std::shared_ptr<const Listener> wildcard;
  for (const auto& [name, l] : config.listeners) {
    if (l->port != port) continue;
    if (l->address == address) return l;
    if (l->address == "0.0.0.0" || l->address == "::") wildcard = l;
  }
  return wildcard;
}

std::shared_ptr<const Listener> virtualOutbound(const RuntimeConfig& config) {
  auto it = config.listeners.find("virtualOutbound");
  if (it != config.listeners.end()) return it->second;
  for (const auto& [name, l] : config.listeners) {
    if (l->useOriginalDst && name != "virtualInbound") return l;
  }
  return nullptr;
}

// Inbound traffic redirected to 15006 in a pod: the listener named so by Istio, else the one
// inbound listener that takes original destinations.
std::shared_ptr<const Listener> virtualInbound(const RuntimeConfig& config) {
  auto it = config.listeners.find("virtualInbound");
  if (it != config.listeners.end()) return it->second;
  for (const auto& [name, l] : config.listeners) {
    if (l->inbound && l->useOriginalDst) return l;
  }
  return nullptr;
}

// With iptables REDIRECT the kernel keeps the address the client dialled; without it the
// call fails and the local address is the destination.
void originalDestination(tcp::socket& socket, ConnectionInfo& info) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockopt(socket.native_handle(), SOL_IP, SO_ORIGINAL_DST, &addr, &len) == 0 && addr.sin_family == AF_INET) {
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf) != nullptr) {
      info.destinationAddress = buf;
      info.destinationPort = ntohs(addr.sin_port);
    }
  }
}

// What the inspectors need to decide: a whole ClientHello (or proof there is none), else
// the first line of an HTTP request.
bool inspectorsHaveEnough(std::string_view first, bool tlsInspector) {
  if (tlsInspector && !first.empty() && static_cast<unsigned char>(first[0]) == 0x16) {
    return parseClientHello(first).status != ClientHello::Status::NeedMore;
  }
  return first.size() >= 64 || first.find('\n') != std::string_view::npos;
}

// Peeks at the first bytes (at most `want`) without consuming them, as Envoy's listener
// filters do; gives up after `timeout` and carries on with what it has.
asio::awaitable<std::string> peek(Worker& worker, Downstream& ds, size_t want, std::chrono::milliseconds timeout,
                                  bool tlsInspector) {
  std::string out;
  bool expired = false;
  Deadline deadline(worker.ioc, std::chrono::steady_clock::now() + timeout, [&ds, &expired] {
    expired = true;
    boost::system::error_code ignored;
    ds.socket.cancel(ignored);
  });
  std::string buf(want, '\0');
  for (;;) {
    ssize_t n = ::recv(ds.socket.native_handle(), buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    size_t before = out.size();
    if (n > 0) out.assign(buf.data(), static_cast<size_t>(n));
    if (n == 0 || out.size() >= want || inspectorsHaveEnough(out, tlsInspector)) co_return out;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) co_return out;
    boost::system::error_code ec;
    if (n > 0 && out.size() == before) {
      // Peeked bytes stay readable, so waiting for readability would spin: poll instead.
      asio::steady_timer pause(worker.ioc, std::chrono::milliseconds(5));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (expired) co_return out;
      continue;
    }
    co_await ds.socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return out;
  }
}

std::string detectHttp(std::string_view first) {
  if (first.starts_with("PRI * HTTP/2.0")) return "h2c";
  size_t eol = first.find('\r');
  std::string_view line = first.substr(0, eol);
  if (line.ends_with(" HTTP/1.1")) return "http/1.1";
  if (line.ends_with(" HTTP/1.0")) return "http/1.0";
  return {};
}

}  // namespace

asio::awaitable<void> serveConnection(Engine& engine, Worker& worker, tcp::socket socket,
                                      std::string listenerName, std::optional<LocalBind> localBind) {
  auto ds = std::make_shared<Downstream>(std::move(socket));
  worker.connections.insert(ds);
  struct Untrack {
    Worker& w;
    std::weak_ptr<Downstream> d;
    ~Untrack() { w.connections.erase(d); }
  } untrack{worker, ds};
  try {
    boost::system::error_code ec;
    ds->socket.set_option(tcp::no_delay(true), ec);
    auto local = ds->socket.local_endpoint(ec);
    auto remote = ds->socket.remote_endpoint(ec);
    if (ec) co_return;
    ConnectionInfo& info = ds->info;
    info.destinationAddress = local.address().to_string();
    info.destinationPort = local.port();
    info.sourceAddress = remote.address().to_string();
    info.sourcePort = remote.port();
    auto active = engine.active();
    const RuntimeConfig& config = *active->config;  // not used after active.reset() below
    std::shared_ptr<const Listener> listener;
    if (localBind && localBind->direction == BindDirection::Inbound) {
      info.destinationAddress = localBind->originalAddress;
      info.destinationPort = localBind->originalPort;
      listener = virtualInbound(config);
    } else if (localBind) {
      if (localBind->originalAddress != "0.0.0.0") info.destinationAddress = localBind->originalAddress;
      info.destinationPort = localBind->originalPort;
      listener = listenerFor(config, info.destinationAddress, info.destinationPort);
      if (!listener) listener = virtualOutbound(config);
    } else {
      auto it = config.listeners.find(listenerName);
      if (it == config.listeners.end()) co_return;
      listener = it->second;
      if (listener->useOriginalDst) {
        originalDestination(ds->socket.lowestLayer(), info);
        auto target = listenerFor(config, info.destinationAddress, info.destinationPort);
        if (target && target != listener) listener = target;
      }
    }
    if (!listener) co_return;
    ds->inbound = listener->inbound;
    if (listener->tlsInspector || listener->httpInspector) {
      size_t want = listener->tlsInspector ? kMaxClientHelloBytes : 64;
      std::string first = co_await peek(worker, *ds, want, std::chrono::seconds(5), listener->tlsInspector);
      if (listener->tlsInspector) {
        ClientHello hello = parseClientHello(first);
        if (hello.status == ClientHello::Status::Done) {
          info.transportProtocol = "tls";
          info.serverName = std::move(hello.serverName);
          info.applicationProtocols = std::move(hello.alpn);
        }
      }
      if (listener->httpInspector && info.transportProtocol == "raw_buffer") {
        std::string proto = detectHttp(first);
        if (!proto.empty()) info.applicationProtocols.push_back(proto);
      }
    }
    active.reset();  // a long keep-alive connection must not pin an old config's clusters
    const FilterChain* chain = selectFilterChain(*listener, info);
    if (chain == nullptr) co_return;
    if (chain->tls && !co_await acceptTls(engine, worker, *ds, chain->tls)) co_return;
    // Keep the chain alive with its listener for the connection's life.
    std::shared_ptr<const FilterChain> chainRef(listener, chain);
    if (std::holds_alternative<HttpConnectionManagerConfig>(chain->filter)) {
      co_await serveHttpAuto(engine, worker, ds, chainRef);
    } else {
      co_await serveTcp(engine, worker, ds, chainRef);
    }
  } catch (const std::exception&) {
    // Only allocation failures get here; dropping the connection is the local reply.
  }
  if (ds->tls) co_await ds->socket.closeNotify(std::chrono::seconds(1));
  boost::system::error_code ignored;
  ds->socket.close(ignored);
}

}  // namespace mesh::proxy::dataplane
