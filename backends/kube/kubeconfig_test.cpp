// kubeconfig loading against kubectl's rules: KUBECONFIG merge order, --kubeconfig and
// --context, paths relative to their file, *-data versus files, tokens, in-cluster config from
// a temporary service-account directory, and errors that name the file and field.
#include "backends/kube/kubeconfig.h"

#include <doctest/doctest.h>

#include "backends/kube/authenticator.h"
#include "backends/testing/store_test_support.h"

namespace mesh::backends::kube {
namespace {

using testing::TempDir;
using testing::writeFile;

// In the files below, Q0EtUEVN, Q0VSVC1QRU0= and S0VZLVBFTQ== are base64 of CA-PEM, CERT-PEM
// and KEY-PEM.
std::string fileA() {
  return R"(apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster:
    server: https://a.example:6443
    certificate-authority-data: Q0EtUEVN
- name: only-a
  cluster:
    server: https://only-a.example
contexts:
- name: ctx-a
  context: {cluster: shared, user: alice, namespace: team-a}
users:
- name: alice
  user:
    token: token-a
)";
}

std::string fileB() {
  return R"(apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster:
    server: https://b.example:6443
- name: only-b
  cluster:
    server: https://only-b.example:8443/prefix/
    insecure-skip-tls-verify: true
contexts:
- name: ctx-a
  context: {cluster: only-b, user: bob}
- name: ctx-b
  context: {cluster: only-b, user: bob}
users:
- name: bob
  user:
    token: token-b
)";
}

KubeConfigOptions noEnvironment() {
  KubeConfigOptions o;
  o.serviceAccountDir = "/nonexistent/serviceaccount";
  return o;
}

TEST_CASE("kubeconfig: KUBECONFIG files merge, the first to set a name or current-context wins") {
  TempDir dir;
  writeFile(dir / "a", fileA());
  writeFile(dir / "b", fileB());
  KubeConfigOptions o = noEnvironment();
  o.kubeconfigEnv = fmt::format("{}::{}:{}:{}", (dir / "missing").string(), (dir / "a").string(),
                                (dir / "b").string(), (dir / "a").string());
  auto merged = loadKubeConfigFiles(o);
  REQUIRE(merged);
  CHECK(merged->currentContext == "ctx-a");
  CHECK(merged->clusters.at("shared").server == "https://a.example:6443");  // a's, not b's
  CHECK(merged->clusters.count("only-b") == 1);
  CHECK(merged->contexts.at("ctx-a").cluster == "shared");
  CHECK(merged->files == std::vector<std::string>{(dir / "a").string(), (dir / "b").string()});

  auto rc = loadRestConfig(o);
  REQUIRE(rc);
  CHECK(rc->contextName == "ctx-a");
  CHECK(rc->server == "https://a.example:6443");
  CHECK(rc->caPem == "CA-PEM");
  CHECK(rc->token == "token-a");
  CHECK(rc->namespace_ == "team-a");
  CHECK(rc->source == fmt::format("kubeconfig {}:{}", (dir / "a").string(), (dir / "b").string()));

  SUBCASE("--context picks another context; a trailing slash of the server goes") {
    o.context = "ctx-b";
    auto b = loadRestConfig(o);
    REQUIRE(b);
    CHECK(b->server == "https://only-b.example:8443/prefix");
    CHECK(b->insecureSkipTlsVerify);
    CHECK(b->token == "token-b");
    CHECK(b->namespace_ == "default");
  }
  SUBCASE("--namespace wins over the context's") {
    o.namespace_ = "override";
    CHECK(loadRestConfig(o)->namespace_ == "override");
  }
  SUBCASE("order matters: b first") {
    o.kubeconfigEnv = fmt::format("{}:{}", (dir / "b").string(), (dir / "a").string());
    auto rb = loadRestConfig(o);
    REQUIRE(rb);
    CHECK(rb->contextName == "ctx-b");
    CHECK(loadKubeConfigFiles(o)->clusters.at("shared").server == "https://b.example:6443");
  }
}

TEST_CASE("kubeconfig: --kubeconfig alone is read, and must exist; ~/.kube/config is the default") {
  TempDir dir;
  writeFile(dir / "a", fileA());
  writeFile(dir / "b", fileB());
  writeFile(dir / "home/.kube/config", fileB());
  KubeConfigOptions o = noEnvironment();
  o.home = (dir / "home").string();
  CHECK(loadRestConfig(o)->contextName == "ctx-b");  // from ~/.kube/config

  o.kubeconfigEnv = (dir / "a").string();
  CHECK(loadRestConfig(o)->contextName == "ctx-a");  // KUBECONFIG over ~/.kube/config

  o.explicitPath = (dir / "b").string();
  CHECK(loadRestConfig(o)->contextName == "ctx-b");  // --kubeconfig over KUBECONFIG

  o.explicitPath = (dir / "nope").string();
  auto missing = loadRestConfig(o);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);
  CHECK(missing.error().message ==
        fmt::format("kubeconfig {}: no such file", (dir / "nope").string()));
}

TEST_CASE("kubeconfig: an unknown context is an error naming the file and the contexts there are") {
  TempDir dir;
  writeFile(dir / "config", fileA());
  KubeConfigOptions o = noEnvironment();
  o.explicitPath = (dir / "config").string();
  o.context = "foo";
  auto r = loadRestConfig(o);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Usage);
  CHECK(r.error().message ==
        fmt::format("kubeconfig {}: context \"foo\" not found", (dir / "config").string()));
  CHECK(r.error().hint == "contexts: ctx-a");
}

TEST_CASE(
    "kubeconfig: paths are relative to their file; *-data and files; both at once is an error") {
  TempDir dir;
  writeFile(dir / "conf/certs/ca.pem", "FILE-CA");
  writeFile(dir / "conf/certs/client.crt", "FILE-CERT");
  writeFile(dir / "conf/certs/client.key", "FILE-KEY");
  writeFile(dir / "conf/token", "file-token\n");
  writeFile(dir / "conf/config", R"(
current-context: files
clusters:
- name: c
  cluster: {server: "https://c.example", certificate-authority: certs/ca.pem}
- name: d
  cluster: {server: "https://d.example", certificate-authority-data: Q0EtUEVN}
users:
- name: files
  user: {client-certificate: certs/client.crt, client-key: ./certs/client.key}
- name: data
  user: {client-certificate-data: Q0VSVC1QRU0=, client-key-data: S0VZLVBFTQ==}
- name: both
  user: {client-certificate: certs/client.crt, client-certificate-data: Q0VSVC1QRU0=, client-key-data: S0VZLVBFTQ==}
- name: tokenfile
  user: {tokenFile: token, token: static}
- name: certonly
  user: {client-certificate-data: Q0VSVC1QRU0=}
contexts:
- {name: files, context: {cluster: c, user: files}}
- {name: data, context: {cluster: d, user: data}}
- {name: both, context: {cluster: d, user: both}}
- {name: tokenfile, context: {cluster: d, user: tokenfile}}
- {name: certonly, context: {cluster: d, user: certonly}}
- {name: nocluster, context: {cluster: gone, user: data}}
)");
  KubeConfigOptions o = noEnvironment();
  o.explicitPath = (dir / "conf/config").string();

  auto files = loadRestConfig(o);
  REQUIRE(files);
  CHECK(files->caPem == "FILE-CA");
  CHECK(files->clientCertPem == "FILE-CERT");
  CHECK(files->clientKeyPem == "FILE-KEY");

  o.context = "data";
  auto data = loadRestConfig(o);
  REQUIRE(data);
  CHECK(data->caPem == "CA-PEM");
  CHECK(data->clientCertPem == "CERT-PEM");
  CHECK(data->clientKeyPem == "KEY-PEM");

  o.context = "both";
  auto both = loadRestConfig(o);
  REQUIRE_FALSE(both);
  CHECK(both.error().message.find("both client-certificate and client-certificate-data are set") !=
        std::string::npos);
  CHECK(both.error().message.find("user \"both\"") != std::string::npos);

  o.context = "certonly";
  auto half = loadRestConfig(o);
  REQUIRE_FALSE(half);
  CHECK(half.error().message.find(
            "needs both a certificate and a key; only the certificate is set") !=
        std::string::npos);

  o.context = "nocluster";
  auto gone = loadRestConfig(o);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().message.find("refers to cluster \"gone\", which is not defined") !=
        std::string::npos);

  SUBCASE("a token file wins over the token, is re-read, and is trimmed") {
    o.context = "tokenfile";
    auto t = loadRestConfig(o);
    REQUIRE(t);
    CHECK(t->tokenFile == (dir / "conf/token").string());
    Authenticator auth(*t);
    auto creds = auth.credentials();
    REQUIRE(creds);
    CHECK(creds->token == "file-token");
    writeFile(dir / "conf/token", "rotated\n");
    CHECK(auth.credentials()->token == "file-token");  // cached for a minute...
    CHECK(auth.refreshAfterUnauthorized(*creds));      // ...unless a 401 says it is stale
    CHECK(auth.credentials()->token == "rotated");
  }
  SUBCASE("a missing token file is an error naming it") {
    std::filesystem::remove(dir / "conf/token");
    o.context = "tokenfile";
    auto t = loadRestConfig(o);
    REQUIRE_FALSE(t);
    CHECK(t.error().message.find(fmt::format("tokenFile {}: no such file",
                                             (dir / "conf/token").string())) != std::string::npos);
  }
}

TEST_CASE("kubeconfig: malformed fields are errors naming file, line and field") {
  TempDir dir;
  auto error = [&](std::string_view text) {
    writeFile(dir / "config", text);
    KubeConfigOptions o = noEnvironment();
    o.explicitPath = (dir / "config").string();
    auto r = loadRestConfig(o);
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  std::string path = (dir / "config").string();
  CHECK(error("clusters:\n- name: c\n  cluster:\n    server: https://x\n    "
              "certificate-authority-data: '%%%'\n") ==
        fmt::format("kubeconfig {}:5: clusters[0] \"c\".cluster.certificate-authority-data is not "
                    "valid base64",
                    path));
  CHECK(error("clusters: {}\n") == fmt::format("kubeconfig {}:1: clusters must be a list", path));
  CHECK(error("clusters:\n- name: c\n- name: c\n") ==
        fmt::format(
            "kubeconfig {}:3: clusters[1] \"c\" is a duplicate: \"c\" appears twice in clusters",
            path));
  CHECK(error("users:\n- name: u\n  user:\n    exec:\n      apiVersion: "
              "client.authentication.k8s.io/v1\n"
              "      command: x\n") ==
        fmt::format("kubeconfig {}:5: users[0] \"u\".user.exec.interactiveMode is required for "
                    "client.authentication.k8s.io/v1",
                    path));
  CHECK(error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: "
              "u}\nclusters:\n- name: k\n"
              "  cluster: {server: 'https://k'}\nusers:\n- name: u\n  user:\n    auth-provider: "
              "{name: gcp}\n") ==
        fmt::format("kubeconfig {}: user \"u\" ({}:11): auth-provider not supported", path, path));
  CHECK(error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- "
              "name: k\n  cluster: "
              "{server: 'https://k', insecure-skip-tls-verify: true, certificate-authority-data: "
              "Q0EtUEVN}\n")
            .find("insecure-skip-tls-verify is set together with a certificate authority") !=
        std::string::npos);
  CHECK(error("key: [unclosed\n").starts_with(fmt::format("kubeconfig {}:", path)));
}

TEST_CASE("kubeconfig: the exec section is read with its args, env and defaults") {
  TempDir dir;
  writeFile(dir / "config", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k"}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/plugin
      args: [get-token, --cluster, k]
      env: [{name: FOO, value: bar}]
      provideClusterInfo: true
      installHint: install it
)");
  KubeConfigOptions o = noEnvironment();
  o.explicitPath = (dir / "config").string();
  auto rc = loadRestConfig(o);
  REQUIRE(rc);
  REQUIRE(rc->exec);
  CHECK(rc->exec->command == "./bin/plugin");
  CHECK(rc->exec->args == std::vector<std::string>{"get-token", "--cluster", "k"});
  CHECK(rc->exec->env == std::vector<std::pair<std::string, std::string>>{{"FOO", "bar"}});
  CHECK(rc->exec->interactiveMode == "IfAvailable");  // v1beta1's default
  CHECK(rc->exec->provideClusterInfo);
  CHECK(rc->exec->baseDir == dir.path().string());
}

TEST_CASE("kubeconfig: in-cluster config when nothing else is configured") {
  TempDir dir;
  writeFile(dir / "sa/token", "sa-token\n");
  writeFile(dir / "sa/ca.crt", "SA-CA");
  writeFile(dir / "sa/namespace", "mesh-system\n");
  KubeConfigOptions o;
  o.home = (dir / "home").string();  // no ~/.kube/config there
  o.serviceAccountDir = (dir / "sa").string();
  o.serviceHost = "10.96.0.1";
  o.servicePort = "443";
  auto rc = loadRestConfig(o);
  REQUIRE(rc);
  CHECK(rc->source == "in-cluster");
  CHECK(rc->server == "https://10.96.0.1:443");
  CHECK(rc->caPem == "SA-CA");
  CHECK(rc->tokenFile == (dir / "sa/token").string());
  CHECK(rc->namespace_ == "mesh-system");
  CHECK(Authenticator(*rc).credentials()->token == "sa-token");

  o.podNamespace = "from-downward-api";
  CHECK(loadRestConfig(o)->namespace_ == "from-downward-api");
  o.serviceHost = "fd00::1";
  CHECK(loadRestConfig(o)->server == "https://[fd00::1]:443");

  SUBCASE("a kubeconfig, when there is one, wins") {
    writeFile(dir / "home/.kube/config", fileA());
    CHECK(loadRestConfig(o)->source ==
          fmt::format("kubeconfig {}", (dir / "home/.kube/config").string()));
  }
  SUBCASE("--context never falls back to in-cluster") {
    o.context = "x";
    auto r = loadRestConfig(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("context \"x\" not found") != std::string::npos);
  }
  SUBCASE("without the service environment there is nothing to use") {
    o.serviceHost.clear();
    auto r = loadRestConfig(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::Usage);
    CHECK(r.error().message.find("no Kubernetes configuration") != std::string::npos);
    CHECK(r.error().hint == "pass --kubeconfig or set KUBECONFIG");
  }
}

}  // namespace
}  // namespace mesh::backends::kube
