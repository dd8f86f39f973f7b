// TestBackend: see test_backend.h. Compiled into the test binary only (see CMakeLists.txt).
#include "proxy/dataplane/test_backend.h"

#include "proxy/dataplane/asio_includes.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

#include <cctype>
#include <cstdio>
#include <map>

namespace mesh::proxy::dataplane::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct TestBackend::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread acceptThread;
  std::mutex mu;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::map<std::string, std::string> lastHeaders;
  std::atomic<bool> stopping{false};
};

TestBackend::TestBackend(std::string name) : impl_(std::make_unique<Impl>()), name_(std::move(name)) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->acceptThread = std::thread([this] {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(impl_->ioc);
      boost::system::error_code ec;
      impl_->acceptor.accept(*socket, ec);
      if (ec || impl_->stopping) return;
      ++connections_;
      std::lock_guard lock(impl_->mu);
      impl_->sockets.push_back(socket);
      impl_->threads.emplace_back([this, socket] {
        struct CloseOnExit {
          tcp::socket& s;
          std::atomic<int>& closed;
          ~CloseOnExit() {
            boost::system::error_code ignored;
            s.shutdown(tcp::socket::shutdown_both, ignored);
            ++closed;
          }
        } closeOnExit{*socket, closed_};
        boost::beast::flat_buffer buffer;
        for (;;) {
          http::request_parser<http::string_body> parser;
          parser.body_limit(64 * 1024 * 1024);
          boost::system::error_code rec;
          http::read(*socket, buffer, parser, rec);
          if (rec) return;
          http::request<http::string_body> req = parser.release();
          ++requests_;
          {
            std::lock_guard l(impl_->mu);
            impl_->lastHeaders.clear();
            for (const auto& f : req) impl_->lastHeaders[std::string(f.name_string())] = std::string(f.value());
          }
          std::string target(req.target());
          if (req["upgrade"] == "echo") {
            // Switch protocols, then echo raw bytes (a stand-in for WebSocket).
            std::string head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
            asio::write(*socket, asio::buffer(head), rec);
            std::string pending(static_cast<const char*>(buffer.data().data()), buffer.size());
            if (!pending.empty()) asio::write(*socket, asio::buffer(pending), rec);
            char raw[4096];
            for (;;) {
              size_t n = socket->read_some(asio::buffer(raw), rec);
              if (rec) return;
              asio::write(*socket, asio::buffer(raw, n), rec);
              if (rec) return;
            }
          }
          http::response<http::string_body> res;
          res.version(11);
          res.result(http::status::ok);
          if (target.starts_with("/fail-every-other")) {
            if (flaky_.fetch_add(1) % 2 == 0) res.result(http::status::service_unavailable);
          } else if (target.find("slow?ms=") != std::string::npos) {
            int ms = std::atoi(target.substr(target.find("ms=") + 3).c_str());
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          }
          if (target.starts_with("/ext-authz/")) {
            // An HTTP authorization server: the status from x-test-status, each
            // x-test-reply-<name> request header back as the response header <name>.
            std::string status(req["x-test-status"]);
            res.result(static_cast<unsigned>(status.empty() ? 200 : std::atoi(status.c_str())));
            for (const auto& field : req) {
              std::string header(field.name_string());
              for (char& ch : header) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
              if (header.starts_with("x-test-reply-")) res.set(header.substr(13), std::string(field.value()));
            }
          }
          res.set("x-backend", name_);
          res.set("x-seen-request-id", std::string(req["x-request-id"]));
          res.set("x-seen-forwarded-proto", std::string(req["x-forwarded-proto"]));
          res.body() = "backend=" + name_ + " path=" + target + " body=" + req.body();
          res.keep_alive(req.keep_alive());
          res.prepare_payload();
          http::write(*socket, res, rec);
          if (rec || !req.keep_alive()) return;
        }
      });
    }
  });
}

TestBackend::~TestBackend() {
  impl_->stopping = true;
  boost::system::error_code ec;
  {
    // Wake the blocking accept with a connection of our own.
    tcp::socket poke(impl_->ioc);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  impl_->acceptThread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& s : impl_->sockets) s->shutdown(tcp::socket::shutdown_both, ec);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

std::string TestBackend::lastHeader(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  for (const auto& [k, v] : impl_->lastHeaders) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) return v;
  }
  return {};
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

}  // namespace mesh::proxy::dataplane::testing
