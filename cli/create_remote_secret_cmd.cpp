// meshctl create-remote-secret --context CTX --name CLUSTER: prints the Secret another
// cluster's meshd (multi-primary) uses to read this one, in istioctl's shape: named
// istio-remote-secret-CLUSTER, labelled istio/multiCluster: "true", annotated
// networking.istio.io/cluster, whose data key CLUSTER is a kubeconfig (server, CA, the reader
// service account's token). On Kubernetes 1.24+ no token Secret exists for a service account,
// so one is created and its token awaited, as istioctl does.
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "backends/kube/codec.h"
#include "backends/kube/kube_client.h"
#include "backends/kube/kubeconfig.h"
#include "cli/app.h"
#include "cli/exit_codes.h"

namespace mesh::cli {
namespace {

using nlohmann::json;

struct RemoteSecretOptions {
  std::string kubeconfig;
  std::string context;
  std::string name;  // the remote cluster's name in the mesh
  std::string type = "remote";
  std::string server;  // overrides the kubeconfig's server in the printed kubeconfig
  std::string secretName;
  std::string namespace_ = "istio-system";
  std::string serviceAccount;  // default from --type
  int tokenWaitSeconds = 30;
};

// The token Secret of a service account: the legacy one it lists, else one created for it
// (Kubernetes 1.24+), whose token the token controller fills in.
Result<json> tokenSecret(backends::kube::KubeClient& client, const RemoteSecretOptions& o) {
  auto secrets = client.discovery().resolve({"", "Secret"});
  auto accounts = client.discovery().resolve({"", "ServiceAccount"});
  if (!secrets) return core::failWith(secrets.error());
  if (!accounts) return core::failWith(accounts.error());
  auto sa = client.get(*accounts, o.namespace_, o.serviceAccount);
  if (!sa)
    return fail(sa.error().code, fmt::format("service account {}/{}: {}", o.namespace_, o.serviceAccount, sa.error().message),
                o.type == "remote" ? "install the remote profile there first: meshctl install -p remote" : "");
  auto hasToken = [](const json& s) {
    return s.value("type", "") == "kubernetes.io/service-account-token" && s.contains("data") &&
           s["data"].contains("token") && !s["data"]["token"].get<std::string>().empty();
  };
  for (const json& ref : sa->value("secrets", json::array())) {
    auto s = client.get(*secrets, o.namespace_, ref.value("name", ""));
    if (s && hasToken(*s)) return *s;
  }
  std::string name = fmt::format("{}-istio-remote-secret-token", o.serviceAccount);
  auto existing = client.get(*secrets, o.namespace_, name);
  if (!existing) {
    if (existing.error().code != ErrorCode::NotFound) return core::failWith(existing.error());
    json wanted = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"type", "kubernetes.io/service-account-token"},
                   {"metadata",
                    {{"name", name},
                     {"namespace", o.namespace_},
                     {"annotations", {{"kubernetes.io/service-account.name", o.serviceAccount}}}}}};
    auto created = client.create(*secrets, wanted);
    if (!created) return core::failWith(created.error());
  } else if (hasToken(*existing)) {
    return *existing;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.tokenWaitSeconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = client.get(*secrets, o.namespace_, name);
    if (s && hasToken(*s)) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return fail(ErrorCode::Unavailable,
              fmt::format("secret {}/{} got no token within {}s", o.namespace_, name, o.tokenWaitSeconds),
              "Kubernetes' token controller fills it in; check that kube-controller-manager runs");
}

std::string decoded(const json& secret, const char* key) {
  if (!secret.contains("data") || !secret["data"].contains(key)) return "";
  auto d = backends::kube::base64Decode(secret["data"][key].get<std::string>());
  return d ? *d : "";
}

Result<std::string> remoteSecret(const RemoteSecretOptions& o) {
  auto config = backends::kube::KubeConfigOptions::fromEnvironment();
  config.explicitPath = o.kubeconfig;
  config.context = o.context;
  auto rest = backends::kube::loadRestConfig(config);
  if (!rest) return core::failWith(rest.error());
  std::string server = o.server.empty() ? rest->server : o.server;
  std::string clusterCa = rest->caPem;
  auto client = backends::kube::KubeClient::create(*rest);
  if (!client) return core::failWith(client.error());
  auto secret = tokenSecret(**client, o);
  if (!secret) return core::failWith(secret.error());
  std::string token = decoded(*secret, "token");
  std::string ca = decoded(*secret, "ca.crt");
  if (ca.empty()) ca = clusterCa;  // the service account's CA, else the one this kubeconfig trusts

  YAML::Emitter kube;
  kube << YAML::BeginMap << YAML::Key << "apiVersion" << YAML::Value << "v1";
  kube << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  kube << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  if (!ca.empty()) kube << YAML::Key << "certificate-authority-data" << YAML::Value << backends::kube::base64Encode(ca);
  kube << YAML::Key << "server" << YAML::Value << server << YAML::EndMap;
  kube << YAML::Key << "name" << YAML::Value << o.name << YAML::EndMap << YAML::EndSeq;
  kube << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  kube << YAML::Key << "context" << YAML::Value << YAML::BeginMap << YAML::Key << "cluster" << YAML::Value << o.name
       << YAML::Key << "user" << YAML::Value << o.name << YAML::EndMap;
  kube << YAML::Key << "name" << YAML::Value << o.name << YAML::EndMap << YAML::EndSeq;
  kube << YAML::Key << "current-context" << YAML::Value << o.name;
  kube << YAML::Key << "kind" << YAML::Value << "Config";
  kube << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  kube << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  kube << YAML::Key << "name" << YAML::Value << o.name;
  kube << YAML::Key << "user" << YAML::Value << YAML::BeginMap << YAML::Key << "token" << YAML::Value << token
       << YAML::EndMap << YAML::EndMap << YAML::EndSeq << YAML::EndMap;

  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Secret";
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap << YAML::Key << "networking.istio.io/cluster"
      << YAML::Value << o.name << YAML::EndMap;
  out << YAML::Key << "creationTimestamp" << YAML::Value << YAML::Null;
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key << "istio/multiCluster" << YAML::Value
      << YAML::DoubleQuoted << "true" << YAML::EndMap;
  out << YAML::Key << "name" << YAML::Value
      << (o.secretName.empty() ? fmt::format("istio-remote-secret-{}", o.name) : o.secretName);
  out << YAML::Key << "namespace" << YAML::Value << o.namespace_ << YAML::EndMap;
  out << YAML::Key << "stringData" << YAML::Value << YAML::BeginMap << YAML::Key << o.name << YAML::Value
      << YAML::Literal << std::string(kube.c_str()) + "\n" << YAML::EndMap << YAML::EndMap;
  return fmt::format("# This file is autogenerated, do not edit.\n{}\n---\n", out.c_str());
}

}  // namespace

void addCreateRemoteSecretCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("create-remote-secret",
                                 "Prints a Secret that lets another cluster's meshd read this cluster (multi-cluster)");
  auto o = std::make_shared<RemoteSecretOptions>();
  cmd->add_option("--kubeconfig", o->kubeconfig, "kubeconfig of the cluster to expose");
  cmd->add_option("--context", o->context, "kubeconfig context of the cluster to expose");
  cmd->add_option("--name", o->name, "this cluster's name in the mesh (the Secret's data key)")->required();
  withChoices(cmd->add_option("--type", o->type,
                              "remote: the reader service account (multi-primary); config: meshd's own, for a "
                              "control plane outside the cluster"),
              {"remote", "config"});
  cmd->add_option("--server", o->server, "API server address to write instead of the kubeconfig's");
  cmd->add_option("--secret-name", o->secretName, "name of the Secret (default istio-remote-secret-NAME)");
  cmd->add_option("-i,--istioNamespace", o->namespace_, "namespace of the service account and the Secret")
      ->capture_default_str();
  cmd->add_option("--service-account", o->serviceAccount,
                  "service account whose token is used (default istio-reader-service-account; meshd for --type config)");
  cmd->add_option("--token-wait", o->tokenWaitSeconds, "seconds to wait for a created token Secret to be filled")
      ->capture_default_str();
  cmd->callback([o, &state] {
    if (o->serviceAccount.empty()) o->serviceAccount = o->type == "config" ? "meshd" : "istio-reader-service-account";
    auto text = remoteSecret(*o);
    if (!text) {
      state.exitCode = reportError(text.error());
      return;
    }
    fmt::print("{}", *text);
    state.exitCode = kExitOk;
  });
}

}  // namespace mesh::cli
