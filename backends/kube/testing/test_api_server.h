// For the Kubernetes backend's integration tests: throwaway certificates made with the openssl
// CLI, and the test API server (tests/kube_apiserver/kube_apiserver.py) run as a child process
// on loopback, stopped (by its pid) when the test ends. Test code only.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "backends/kube/kube_client.h"
#include "backends/testing/store_test_support.h"

namespace mesh::backends::kube::testing {

using backends::testing::readText;
using backends::testing::TempDir;
using backends::testing::writeFile;

// The error message of a failed Result, "" otherwise: for *_MESSAGE assertions, which doctest
// may evaluate even when the check passes.
template <class R>
std::string why(const R& r) {
  return r ? std::string() : r.error().message;
}

inline std::filesystem::path apiServerScript() {
  return std::filesystem::path(MESH_SOURCE_DIR) / "tests/kube_apiserver/kube_apiserver.py";
}

inline bool apiServerAvailable() { return std::filesystem::exists(apiServerScript()); }

// A CA, a server certificate for 127.0.0.1/localhost and a client certificate for user
// "alice" in group "devs", made once per test binary and removed at its exit.
struct TestCerts {
  TempDir dir;
  std::string caPem, clientCertPem, clientKeyPem;

  TestCerts() {
    std::string d = dir.path().string();
    writeFile(dir / "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    writeFile(dir / "client.ext", "extendedKeyUsage=clientAuth\n");
    std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    writeFile(
        dir / "make.sh",
        fmt::format(
            "set -e; cd '{}'\n"
            "openssl req -x509 {} -keyout ca.key -out ca.crt -days 2 -subj /CN=meshctl-test-ca\n"
            "openssl req {} -keyout server.key -out server.csr -subj /CN=kube-apiserver\n"
            "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out "
            "server.crt "
            "-days 2 -extfile server.ext\n"
            "openssl req {} -keyout client.key -out client.csr -subj /O=devs/CN=alice\n"
            "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out "
            "client.crt "
            "-days 2 -extfile client.ext\n",
            d, key, key, key));
    if (std::system(fmt::format("sh '{0}/make.sh' >'{0}/openssl.log' 2>&1", d).c_str()) != 0)
      FAIL("openssl could not make test certificates: " << readText(dir / "openssl.log"));
    caPem = readText(dir / "ca.crt");
    clientCertPem = readText(dir / "client.crt");
    clientKeyPem = readText(dir / "client.key");
  }
  std::string path(std::string_view name) const { return (dir / name).string(); }
};

inline const TestCerts& testCerts() {
  static const TestCerts certs;
  return certs;
}

struct ApiServerOptions {
  bool tls = true;
  bool clientCa = false;  // accept client certificates signed by the test CA
  std::vector<std::string> tokens{"test-token"};
  std::vector<std::string> forbid{};
  std::vector<std::string> extraArgs{};
};

class TestApiServer {
 public:
  explicit TestApiServer(ApiServerOptions options = {}) {
    const TestCerts& certs = testCerts();
    std::vector<std::string> args = {"python3",      apiServerScript().string(),
                                     "--listen",     "127.0.0.1:0",
                                     "--ready-file", (dir_ / "ready").string()};
    if (options.tls)
      args.insert(args.end(),
                  {"--tls-cert", certs.path("server.crt"), "--tls-key", certs.path("server.key")});
    if (options.clientCa) {
      args.emplace_back("--client-ca");
      args.push_back(certs.path("ca.crt"));
    }
    for (const auto& t : options.tokens) {
      args.emplace_back("--token");
      args.push_back(t);
    }
    for (const auto& f : options.forbid) {
      args.emplace_back("--forbid");
      args.push_back(f);
    }
    args.insert(args.end(), options.extraArgs.begin(), options.extraArgs.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log = (dir_ / "server.log").string();
    int logFd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE((logFd >= 0 && nullFd >= 0));
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child: only async-signal-safe calls until exec. The server dies with the test
      // binary, even when that is killed.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(nullFd, 0);
      ::dup2(logFd, 1);
      ::dup2(logFd, 2);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    ::close(logFd);
    ::close(nullFd);
    REQUIRE_MESSAGE(pid_ > 0, "cannot fork: " << std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (url_.empty()) {
      std::string ready = readText(dir_ / "ready");
      while (!ready.empty() && (ready.back() == '\n' || ready.back() == ' ')) ready.pop_back();
      if (!ready.empty() && ready.find("://") != std::string::npos) {
        url_ = ready;
        break;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("the test API server exited: " << readText(dir_ / "server.log"));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        FAIL("the test API server did not become ready: " << readText(dir_ / "server.log"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~TestApiServer() { stop(); }
  TestApiServer(const TestApiServer&) = delete;
  TestApiServer& operator=(const TestApiServer&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

  const std::string& url() const { return url_; }
  std::string log() const { return readText(dir_ / "server.log"); }
  const TempDir& dir() const { return dir_; }

  // Cluster CA and a token: what most tests connect with.
  RestConfig config(std::string token = "test-token") const {
    RestConfig rc;
    rc.server = url_;
    rc.caPem = testCerts().caPem;
    rc.token = std::move(token);
    rc.source = "test";
    rc.contextName = "test";
    rc.userName = "tester";
    return rc;
  }
  std::shared_ptr<KubeClient> client(std::string token = "test-token",
                                     RestClientOptions options = fastRetries()) const {
    auto c = KubeClient::create(config(std::move(token)), std::move(options));
    REQUIRE(c);
    return *c;
  }
  static RestClientOptions fastRetries() {
    RestClientOptions o;
    o.retryBase = std::chrono::milliseconds(20);
    o.retryMax = std::chrono::milliseconds(200);
    return o;
  }

  // Control endpoints.
  nlohmann::json control(std::string method, std::string path,
                         const nlohmann::json& body = nullptr) {
    if (!control_) control_ = client();
    HttpRequest req{.method = std::move(method), .path = std::move(path)};
    if (!body.is_null()) {
      req.body = body.dump();
      req.contentType = "application/json";
    }
    req.idempotent = false;
    auto r = control_->raw(req);
    REQUIRE_MESSAGE(r, testing::why(r));
    return r->body.empty() ? nlohmann::json() : nlohmann::json::parse(r->body);
  }
  void fault(const nlohmann::json& spec) { control("POST", "/__test/faults", spec); }
  void clearFaults() { control("DELETE", "/__test/faults"); }
  void compact() { control("POST", "/__test/compact", nlohmann::json::object()); }
  nlohmann::json requests() { return control("GET", "/__test/requests"); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::string url_;
  std::shared_ptr<KubeClient> control_;
};

// A CustomResourceDefinition accepting any object, serving `versions` (the first stored).
inline nlohmann::json crd(std::string_view group, std::string_view kind, std::string_view plural,
                          std::vector<std::string> versions, bool namespaced = true) {
  nlohmann::json vs = nlohmann::json::array();
  for (size_t i = 0; i < versions.size(); ++i)
    vs.push_back({{"name", versions[i]},
                  {"served", true},
                  {"storage", i == 0},
                  {"schema",
                   {{"openAPIV3Schema",
                     {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}});
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", fmt::format("{}.{}", plural, group)}}},
      {"spec",
       {{"group", group},
        {"scope", namespaced ? "Namespaced" : "Cluster"},
        {"names", {{"kind", kind}, {"plural", plural}, {"listKind", fmt::format("{}List", kind)}}},
        {"versions", vs}}}};
}

// Creates the CRD and waits until discovery serves its kind.
inline void installCrd(KubeClient& client, const nlohmann::json& definition) {
  auto api = client.discovery().resolve({"apiextensions.k8s.io", "CustomResourceDefinition"});
  REQUIRE_MESSAGE(api, testing::why(api));
  auto created = client.create(*api, definition);
  REQUIRE_MESSAGE(created, testing::why(created));
  core::GroupKind gk{definition["spec"]["group"], definition["spec"]["names"]["kind"]};
  REQUIRE(
      backends::testing::eventually([&] { return client.discovery().resolve(gk).has_value(); }));
}

inline nlohmann::json virtualServiceCrd() {
  return crd("networking.istio.io", "VirtualService", "virtualservices",
             {"v1", "v1beta1", "v1alpha3"});
}

// Skips the calling test when the server script is missing from the tree.
#define MESH_REQUIRE_API_SERVER()                                                        \
  do {                                                                                   \
    if (!::mesh::backends::kube::testing::apiServerAvailable()) {                        \
      MESSAGE("skipped: " << ::mesh::backends::kube::testing::apiServerScript().string() \
                          << " is not there");                                           \
      return;                                                                            \
    }                                                                                    \
  } while (false)

}  // namespace mesh::backends::kube::testing
