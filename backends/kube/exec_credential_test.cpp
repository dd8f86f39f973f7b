// Exec credential plugins, run for real: small shell scripts written to a temporary directory
// play the plugin (a token with an expiry, a client certificate, failures of every kind).
#include "backends/kube/exec_credential.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backends/kube/authenticator.h"
#include "backends/testing/store_test_support.h"

namespace mesh::backends::kube {
namespace {

using testing::readText;
using testing::TempDir;
using testing::writeFile;

constexpr std::string_view kV1 = "client.authentication.k8s.io/v1";

std::string script(const TempDir& dir, std::string_view name, std::string_view body) {
  auto path = dir / name;
  writeFile(path, fmt::format("#!/bin/sh\n{}", body));
  ::chmod(path.c_str(), 0755);
  return path.string();
}

ExecConfig execConfig(std::string command, std::string_view apiVersion = kV1) {
  ExecConfig c;
  c.command = std::move(command);
  c.apiVersion = std::string(apiVersion);
  c.interactiveMode = "Never";
  return c;
}

// Prints an ExecCredential with `status` and appends a line to <dir>/runs for each run.
std::string credentialPlugin(const TempDir& dir, std::string_view name, std::string_view status,
                             std::string_view apiVersion = kV1) {
  return script(
      dir, name,
      fmt::format("echo run >> '{}'\n"
                  "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '{}'\n"
                  "echo \"$@ FOO=$FOO\" > '{}'\n"
                  "cat <<'EOF'\n"
                  "{{\"apiVersion\": \"{}\", \"kind\": \"ExecCredential\", \"status\": {}}}\n"
                  "EOF\n",
                  (dir / "runs").string(), (dir / "exec-info").string(), (dir / "args").string(),
                  apiVersion, status));
}

size_t runsOf(const TempDir& dir) {
  std::string text = readText(dir / "runs");
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_CASE(
    "exec plugin: a token with an expiry is cached until it expires, and the spec is passed") {
  TempDir dir;
  ExecConfig c = execConfig(credentialPlugin(
      dir, "plugin",
      R"({"token": "secret-token", "expirationTimestamp": "2999-01-01T00:00:00Z"})"));
  c.args = {"get-token", "--flag"};
  c.env = {{"FOO", "bar"}};
  c.provideClusterInfo = true;
  ExecCredentialPlugin plugin(c, ExecClusterInfo{.server = "https://k:6443",
                                                 .caPem = "CA",
                                                 .insecureSkipTlsVerify = false,
                                                 .tlsServerName = ""});
  auto first = plugin.get();
  REQUIRE(first);
  CHECK(first->token == "secret-token");
  REQUIRE(first->expiry);
  CHECK(*first->expiry > std::chrono::system_clock::now());
  auto second = plugin.get();
  REQUIRE(second);
  CHECK(second->token == "secret-token");
  CHECK(runsOf(dir) == 1);
  CHECK(plugin.runs() == 1);

  auto info = nlohmann::json::parse(readText(dir / "exec-info"));
  CHECK(info["apiVersion"] == kV1);
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://k:6443");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] == "Q0E=");
  CHECK(readText(dir / "args") == "get-token --flag FOO=bar\n");

  plugin.invalidate(*second);  // a 401 with it
  REQUIRE(plugin.get());
  CHECK(runsOf(dir) == 2);
}

TEST_CASE("exec plugin: an expired credential runs the plugin again; v1beta1 answers in v1beta1") {
  TempDir dir;
  constexpr std::string_view kBeta = "client.authentication.k8s.io/v1beta1";
  ExecCredentialPlugin plugin(
      execConfig(credentialPlugin(
                     dir, "plugin",
                     R"({"token": "t", "expirationTimestamp": "2000-01-01T00:00:00Z"})", kBeta),
                 kBeta),
      {});
  REQUIRE(plugin.get());
  REQUIRE(plugin.get());
  CHECK(runsOf(dir) == 2);
}

TEST_CASE("exec plugin: a client certificate and key; used by the authenticator when no token") {
  TempDir dir;
  RestConfig rc;
  rc.server = "https://k";
  rc.exec = execConfig(credentialPlugin(
      dir, "plugin", R"({"clientCertificateData": "CERT\nPEM", "clientKeyData": "KEY\nPEM"})"));
  Authenticator auth(rc);
  auto creds = auth.credentials();
  REQUIRE(creds);
  CHECK(creds->token.empty());
  CHECK(creds->clientCertPem == "CERT\nPEM");
  CHECK(creds->clientKeyPem == "KEY\nPEM");
  REQUIRE(auth.credentials());
  CHECK(auth.execRuns() == 1);  // no expiry: kept until a 401
  CHECK(auth.refreshAfterUnauthorized(*creds));
  REQUIRE(auth.credentials());
  CHECK(auth.execRuns() == 2);
}

TEST_CASE("exec plugin: failures are clear and never show the plugin's output") {
  TempDir dir;
  SUBCASE("a non-zero exit carries stderr") {
    auto r = runExecPlugin(execConfig(script(dir, "p",
                                             "echo '{\"token\": \"leaked\"}'\necho 'error: login "
                                             "required, run: sso login' >&2\nexit 3\n")),
                           {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          fmt::format(
              "exec plugin \"{}\" failed with exit code 3: error: login required, run: sso login",
              (dir / "p").string()));
    CHECK(r.error().message.find("leaked") == std::string::npos);
  }
  SUBCASE("a missing command shows the install hint") {
    ExecConfig c = execConfig("meshctl-test-no-such-plugin");
    c.installHint = "  brew install the-plugin\n";
    auto r = runExecPlugin(c, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::NotFound);
    CHECK(r.error().message ==
          "exec plugin: cannot run \"meshctl-test-no-such-plugin\": executable not found");
    CHECK(r.error().hint == "brew install the-plugin");
  }
  SUBCASE("a relative command resolves against the kubeconfig's directory") {
    credentialPlugin(dir, "bin/plugin", R"({"token": "t"})");
    ExecConfig c = execConfig("./bin/plugin");
    c.baseDir = dir.path().string();
    auto r = runExecPlugin(c, {});
    REQUIRE(r);
    CHECK(r->token == "t");
    CHECK_FALSE(r->expiry);
  }
  SUBCASE("output that is not JSON, the wrong apiVersion, no credential, half a certificate") {
    auto garbage = runExecPlugin(execConfig(script(dir, "g", "echo 'token=secret-value'\n")), {});
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().message.find("is not valid JSON") != std::string::npos);
    CHECK(garbage.error().message.find("secret-value") == std::string::npos);
    auto wrong = runExecPlugin(execConfig(credentialPlugin(dir, "w", R"({"token": "t"})",
                                                           "client.authentication.k8s.io/v1beta1")),
                               {});
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message.find(
              "is configured to use API version client.authentication.k8s.io/v1, but "
              "returned client.authentication.k8s.io/v1beta1") != std::string::npos);
    auto empty = runExecPlugin(execConfig(credentialPlugin(dir, "e", "{}")), {});
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message.find("neither a token nor a client certificate") !=
          std::string::npos);
    auto half = runExecPlugin(
        execConfig(credentialPlugin(dir, "h", R"({"clientCertificateData": "C"})")), {});
    REQUIRE_FALSE(half);
    CHECK(half.error().message.find("returned clientCertificateData without clientKeyData") !=
          std::string::npos);
    auto badTime =
        runExecPlugin(execConfig(credentialPlugin(
                          dir, "t", R"({"token": "t", "expirationTimestamp": "tomorrow"})")),
                      {});
    REQUIRE_FALSE(badTime);
    CHECK(badTime.error().message.find("not RFC 3339") != std::string::npos);
  }
  SUBCASE("a plugin that hangs is stopped at the timeout") {
    auto r = runExecPlugin(execConfig(script(dir, "slow", "exec sleep 30\n")), {},
                           ExecOptions{.timeout = std::chrono::milliseconds(300)});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("did not finish within") != std::string::npos);
  }
  SUBCASE("a plugin that wants a terminal is refused") {
    ExecConfig c = execConfig(credentialPlugin(dir, "i", R"({"token": "t"})"));
    c.interactiveMode = "Always";
    auto r = runExecPlugin(c, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("needs an interactive terminal") != std::string::npos);
  }
}

TEST_CASE("exec plugin: RFC 3339 timestamps") {
  using std::chrono::system_clock;
  auto base = parseRfc3339("2024-05-01T12:00:00Z");
  REQUIRE(base);
  CHECK(system_clock::to_time_t(*base) == 1714564800);
  CHECK(parseRfc3339("2024-05-01T14:00:00.123+02:00") == base);
  CHECK(parseRfc3339("2024-05-01T11:30:00-00:30") == base);
  CHECK_FALSE(parseRfc3339("2024-05-01 12:00:00Z"));
  CHECK_FALSE(parseRfc3339("2024-05-01T12:00:00"));
  CHECK_FALSE(parseRfc3339("2024-13-01T12:00:00Z"));
}

}  // namespace
}  // namespace mesh::backends::kube
