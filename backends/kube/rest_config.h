// RestConfig: everything needed to talk to one API server as one user (client-go's rest.Config),
// produced by kubeconfig loading or in-cluster discovery and consumed by RestClient. Plain
// data; copy freely. Holds secrets (token, key): never print it whole.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mesh::backends::kube {

// users[].user.exec of a kubeconfig (client.authentication.k8s.io exec credential plugins).
struct ExecConfig {
  std::string command{};
  std::vector<std::string> args{};
  std::vector<std::pair<std::string, std::string>> env{};
  std::string apiVersion{};   // client.authentication.k8s.io/v1 or /v1beta1
  std::string installHint{};  // shown when the command is missing
  bool provideClusterInfo = false;
  std::string interactiveMode{};  // Never, IfAvailable, Always ("" for v1beta1: IfAvailable)
  std::string baseDir{};          // the kubeconfig's directory: relative commands resolve here
};

struct RestConfig {
  std::string server{};  // "https://host:port[/prefix]"
  std::string caPem{};   // PEM roots; empty: the system's roots
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName{};  // name to verify instead of the server URL's host
  std::string clientCertPem{};
  std::string clientKeyPem{};
  std::string token{};
  std::string tokenFile{};  // re-read as it rotates; wins over `token` once read (rest.Config)
  std::optional<ExecConfig> exec{};

  // Where it came from, for messages: "kubeconfig /home/u/.kube/config" or "in-cluster".
  std::string source{};
  std::string contextName{};
  std::string clusterName{};
  std::string userName{};
  std::string namespace_ = "default";   // the context's namespace
  std::vector<std::string> warnings{};  // settings read but not honoured (proxy-url, ...)
};

}  // namespace mesh::backends::kube
