// kubeconfig loading as kubectl does it (client-go clientcmd): --kubeconfig alone when given,
// else the KUBECONFIG path list merged, else ~/.kube/config; in-cluster service-account config
// when all of that is empty. Produces a RestConfig for one context. Pure functions of their
// inputs (the environment is read only by KubeConfigOptions::fromEnvironment); any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/kube/rest_config.h"
#include "core/result.h"

namespace mesh::backends::kube {

struct KubeConfigOptions {
  std::string explicitPath{};                  // --kubeconfig: only this file, and it must exist
  std::optional<std::string> kubeconfigEnv{};  // $KUBECONFIG, a ':'-separated list
  std::string home{};                          // $HOME, for ~/.kube/config
  std::string context{};                       // --context: instead of current-context
  std::string namespace_{};                    // --namespace: instead of the context's
  // In-cluster: $KUBERNETES_SERVICE_HOST/PORT, $POD_NAMESPACE, and the service account's
  // files under `serviceAccountDir` (tests point it at a temporary directory).
  std::string serviceHost{};
  std::string servicePort{};
  std::string podNamespace{};
  std::string serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

  static KubeConfigOptions fromEnvironment();
};

struct KubeCluster {
  std::string server{};
  std::string certificateAuthority{};      // a path, made absolute against its kubeconfig
  std::string certificateAuthorityData{};  // decoded PEM
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName{};
  std::string proxyUrl{};
  std::string origin{};  // "/x/config:12", for messages
};

struct KubeUser {
  std::string clientCertificate{};
  std::string clientCertificateData{};
  std::string clientKey{};
  std::string clientKeyData{};
  std::string token{};
  std::string tokenFile{};
  std::optional<ExecConfig> exec{};
  std::vector<std::string> unsupported{};  // auth-provider, username, as, ... (settings we refuse)
  std::string origin{};
};

struct KubeContext {
  std::string cluster{};
  std::string user{};
  std::string namespace_{};
  std::string origin{};
};

// One file, or several merged: the first file to set a name keeps it, and current-context comes
// from the first file that sets it (clientcmd's merge rules).
struct KubeConfig {
  std::map<std::string, KubeCluster> clusters{};
  std::map<std::string, KubeUser> users{};
  std::map<std::string, KubeContext> contexts{};
  std::string currentContext{};
  std::vector<std::string> files{};  // the files read, in order

  bool empty() const {
    return clusters.empty() && users.empty() && contexts.empty() && currentContext.empty();
  }
  // "kubeconfig /a/config" or "kubeconfig /a:/b" (the files read), for messages.
  std::string describe() const;
};

// Parses one kubeconfig's text; relative paths resolve against `path`'s directory.
Result<KubeConfig> parseKubeConfig(const std::string& path, std::string_view content);
// Adds `from`'s entries that `into` does not have yet.
void mergeKubeConfig(KubeConfig& into, KubeConfig&& from);
// The files kubectl would read, merged. Empty when none exists (except --kubeconfig, which must).
Result<KubeConfig> loadKubeConfigFiles(const KubeConfigOptions& options);

// The RestConfig of options.context (or current-context), reading the files it names.
Result<RestConfig> resolveContext(const KubeConfig& config, const KubeConfigOptions& options);
// The pod's own service account; NotFound when not running in a cluster.
Result<RestConfig> inClusterConfig(const KubeConfigOptions& options);

// kubectl's whole flow: the files, else in-cluster, else an error saying what was looked at.
Result<RestConfig> loadRestConfig(const KubeConfigOptions& options);

}  // namespace mesh::backends::kube
