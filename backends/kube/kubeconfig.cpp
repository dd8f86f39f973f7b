#include "backends/kube/kubeconfig.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "backends/file/file_io.h"
#include "backends/kube/codec.h"
#include "core/yaml/parser.h"

namespace mesh::backends::kube {
namespace {

namespace fs = std::filesystem;
using core::Node;

constexpr size_t kMaxKubeconfigBytes = 16u << 20;
constexpr size_t kMaxCredentialFileBytes = 1u << 20;

Failure failWith(Error e) { return Failure(std::move(e)); }

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Reads one kubeconfig's nodes, turning every problem into "kubeconfig FILE:LINE: FIELD ...".
class Reader {
 public:
  explicit Reader(const std::string& path)
      : path_(path), dir_(fs::path(path).parent_path().string()) {}

  Error error(const Node* at, std::string_view field, std::string_view problem) const {
    std::string where =
        at && at->mark().line ? fmt::format("{}:{}", path_, at->mark().line) : path_;
    return Error{
        ErrorCode::InvalidInput, fmt::format("kubeconfig {}: {} {}", where, field, problem), {}};
  }
  std::string origin(const Node* at) const {
    return at && at->mark().line ? fmt::format("{}:{}", path_, at->mark().line) : path_;
  }

  // A string field; "" when absent or null.
  Result<std::string> text(const Node* map, std::string_view key, std::string_view field) const {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return std::string();
    if (!n->isScalar())
      return failWith(error(n, fmt::format("{}.{}", field, key), "must be a string"));
    return std::string(n->text());
  }
  Result<bool> flag(const Node* map, std::string_view key, std::string_view field) const {
    const Node* n = map->get(key);
    if (!n || n->isNull()) return false;
    auto b = n->asBool();
    if (!b) return failWith(error(n, fmt::format("{}.{}", field, key), "must be true or false"));
    return *b;
  }
  // *-data fields: base64 in the file, bytes in memory.
  Result<std::string> data(const Node* map, std::string_view key, std::string_view field) const {
    auto encoded = text(map, key, field);
    if (!encoded || encoded->empty()) return encoded;
    auto decoded = base64Decode(*encoded);
    if (!decoded)
      return failWith(
          error(map->get(key), fmt::format("{}.{}", field, key), "is not valid base64"));
    return *decoded;
  }
  // Paths in a kubeconfig are relative to the file that holds them (clientcmd ResolvePaths).
  Result<std::string> path(const Node* map, std::string_view key, std::string_view field) const {
    auto p = text(map, key, field);
    if (!p || p->empty()) return p;
    if (p->starts_with("~/")) return p;  // kubectl does not expand ~ either; keep it as written
    fs::path rel(*p);
    return rel.is_absolute() ? *p : (fs::path(dir_) / rel).lexically_normal().string();
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string path_;
  std::string dir_;
};

template <class T>
using Parse = Result<T> (*)(const Reader&, const Node*, std::string_view);

Result<KubeCluster> parseCluster(const Reader& rd, const Node* n, std::string_view field) {
  KubeCluster c;
  c.origin = rd.origin(n);
  auto server = rd.text(n, "server", field);
  auto ca = rd.path(n, "certificate-authority", field);
  auto caData = rd.data(n, "certificate-authority-data", field);
  auto insecure = rd.flag(n, "insecure-skip-tls-verify", field);
  auto sni = rd.text(n, "tls-server-name", field);
  auto proxy = rd.text(n, "proxy-url", field);
  for (auto* r : {&server, &ca, &caData, &sni, &proxy})
    if (!*r) return failWith(r->error());
  if (!insecure) return failWith(insecure.error());
  c.server = *server;
  c.certificateAuthority = *ca;
  c.certificateAuthorityData = *caData;
  c.insecureSkipTlsVerify = *insecure;
  c.tlsServerName = *sni;
  c.proxyUrl = *proxy;
  return c;
}

Result<ExecConfig> parseExec(const Reader& rd, const Node* n, std::string_view field) {
  if (!n->isMapping()) return failWith(rd.error(n, field, "must be a map"));
  ExecConfig e;
  e.baseDir = rd.dir();
  auto command = rd.text(n, "command", field);
  auto apiVersion = rd.text(n, "apiVersion", field);
  auto hint = rd.text(n, "installHint", field);
  auto mode = rd.text(n, "interactiveMode", field);
  auto clusterInfo = rd.flag(n, "provideClusterInfo", field);
  for (auto* r : {&command, &apiVersion, &hint, &mode})
    if (!*r) return failWith(r->error());
  if (!clusterInfo) return failWith(clusterInfo.error());
  e.command = *command;
  e.apiVersion = *apiVersion;
  e.installHint = *hint;
  e.interactiveMode = *mode;
  e.provideClusterInfo = *clusterInfo;
  if (e.command.empty())
    return failWith(rd.error(n, fmt::format("{}.command", field), "is required"));
  if (e.apiVersion != "client.authentication.k8s.io/v1" &&
      e.apiVersion != "client.authentication.k8s.io/v1beta1")
    return failWith(rd.error(
        n, fmt::format("{}.apiVersion", field),
        fmt::format("\"{}\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)",
                    e.apiVersion)));
  // clientcmd: v1 requires interactiveMode; v1beta1 defaults it to IfAvailable.
  if (e.interactiveMode.empty()) {
    if (e.apiVersion.ends_with("/v1"))
      return failWith(rd.error(n, fmt::format("{}.interactiveMode", field),
                               "is required for client.authentication.k8s.io/v1"));
    e.interactiveMode = "IfAvailable";
  }
  if (e.interactiveMode != "Never" && e.interactiveMode != "IfAvailable" &&
      e.interactiveMode != "Always")
    return failWith(rd.error(n->get("interactiveMode"), fmt::format("{}.interactiveMode", field),
                             "must be Never, IfAvailable or Always"));
  if (const Node* args = n->get("args"); args && !args->isNull()) {
    if (!args->isSequence())
      return failWith(rd.error(args, fmt::format("{}.args", field), "must be a list"));
    for (const Node* a : args->items()) {
      if (!a->isScalar())
        return failWith(rd.error(a, fmt::format("{}.args", field), "must hold strings"));
      e.args.emplace_back(a->text());
    }
  }
  if (const Node* env = n->get("env"); env && !env->isNull()) {
    if (!env->isSequence())
      return failWith(rd.error(env, fmt::format("{}.env", field), "must be a list"));
    for (const Node* kv : env->items()) {
      std::string f = fmt::format("{}.env[]", field);
      if (!kv->isMapping())
        return failWith(rd.error(kv, f, "entries must be maps of name and value"));
      auto name = rd.text(kv, "name", f);
      auto value = rd.text(kv, "value", f);
      if (!name) return failWith(name.error());
      if (!value) return failWith(value.error());
      if (name->empty()) return failWith(rd.error(kv, f + ".name", "is required"));
      e.env.emplace_back(*name, *value);
    }
  }
  return e;
}

Result<KubeUser> parseUser(const Reader& rd, const Node* n, std::string_view field) {
  KubeUser u;
  u.origin = rd.origin(n);
  auto cert = rd.path(n, "client-certificate", field);
  auto certData = rd.data(n, "client-certificate-data", field);
  auto key = rd.path(n, "client-key", field);
  auto keyData = rd.data(n, "client-key-data", field);
  auto token = rd.text(n, "token", field);
  auto tokenFile = rd.path(n, "tokenFile", field);
  for (auto* r : {&cert, &certData, &key, &keyData, &token, &tokenFile})
    if (!*r) return failWith(r->error());
  u.clientCertificate = *cert;
  u.clientCertificateData = *certData;
  u.clientKey = *key;
  u.clientKeyData = *keyData;
  u.token = *token;
  u.tokenFile = *tokenFile;
  if (const Node* exec = n->get("exec"); exec && !exec->isNull()) {
    auto e = parseExec(rd, exec, fmt::format("{}.exec", field));
    if (!e) return failWith(e.error());
    u.exec = std::move(*e);
  }
  // Settings kubectl honours that we do not: refusing beats silently connecting as someone else.
  for (std::string_view k :
       {"auth-provider", "username", "password", "as", "as-uid", "as-groups", "as-user-extra"})
    if (const Node* v = n->get(k); v && !v->isNull()) u.unsupported.emplace_back(k);
  return u;
}

Result<KubeContext> parseContext(const Reader& rd, const Node* n, std::string_view field) {
  KubeContext c;
  c.origin = rd.origin(n);
  auto cluster = rd.text(n, "cluster", field);
  auto user = rd.text(n, "user", field);
  auto ns = rd.text(n, "namespace", field);
  for (auto* r : {&cluster, &user, &ns})
    if (!*r) return failWith(r->error());
  c.cluster = *cluster;
  c.user = *user;
  c.namespace_ = *ns;
  return c;
}

// clusters:, users:, contexts: — lists of {name, <inner>: {...}} with unique names.
template <class T>
Result<void> parseNamed(const Reader& rd, const Node* root, std::string_view list,
                        std::string_view inner, Parse<T> parse, std::map<std::string, T>& out) {
  const Node* items = root->get(list);
  if (!items || items->isNull()) return {};
  if (!items->isSequence()) return failWith(rd.error(items, list, "must be a list"));
  size_t i = 0;
  for (const Node* item : items->items()) {
    std::string field = fmt::format("{}[{}]", list, i++);
    if (!item->isMapping()) return failWith(rd.error(item, field, "must be a map"));
    auto name = rd.text(item, "name", field);
    if (!name) return failWith(name.error());
    if (name->empty()) return failWith(rd.error(item, field + ".name", "is required"));
    field = fmt::format("{} \"{}\"", field, *name);
    const Node* body = item->get(inner);
    if (body && !body->isNull() && !body->isMapping())
      return failWith(rd.error(body, fmt::format("{}.{}", field, inner), "must be a map"));
    Result<T> parsed = body && body->isMapping()
                           ? parse(rd, body, fmt::format("{}.{}", field, inner))
                           : Result<T>(T{});
    if (!parsed) return failWith(parsed.error());
    if (parsed->origin.empty()) parsed->origin = rd.origin(item);
    // clientcmd refuses a name listed twice in one file.
    if (!out.emplace(*name, std::move(*parsed)).second)
      return failWith(rd.error(
          item, field, fmt::format("is a duplicate: \"{}\" appears twice in {}", *name, list)));
  }
  return {};
}

Result<std::string> readCredentialFile(const std::string& path, std::string_view what,
                                       std::string_view owner) {
  auto content = readWholeFile(path, kMaxCredentialFileBytes);
  if (!content)
    return fail(content.error().code == ErrorCode::NotFound ? ErrorCode::NotFound : ErrorCode::Io,
                fmt::format("{}: {} {}: {}", owner, what, path,
                            content.error().code == ErrorCode::NotFound ? "no such file"
                                                                        : content.error().message));
  return std::move(*content);
}

std::string joinNames(const auto& map) {
  std::string out;
  for (const auto& [name, _] : map) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

}  // namespace

KubeConfigOptions KubeConfigOptions::fromEnvironment() {
  KubeConfigOptions o;
  if (const char* v = std::getenv("KUBECONFIG")) o.kubeconfigEnv = std::string(v);
  o.home = envOr("HOME");
  o.serviceHost = envOr("KUBERNETES_SERVICE_HOST");
  o.servicePort = envOr("KUBERNETES_SERVICE_PORT");
  o.podNamespace = envOr("POD_NAMESPACE");
  return o;
}

std::string KubeConfig::describe() const {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ":") + f;
  return "kubeconfig " + (out.empty() ? std::string("(none)") : out);
}

Result<KubeConfig> parseKubeConfig(const std::string& path, std::string_view content) {
  core::ParsedFile parsed = core::parseYaml(path, content);
  if (parsed.error)
    return fail(ErrorCode::InvalidInput, fmt::format("kubeconfig {}", parsed.error->format()));
  KubeConfig config;
  config.files.push_back(path);
  if (parsed.documents.empty()) return config;  // an empty file is an empty config
  if (parsed.documents.size() > 1)
    return fail(ErrorCode::InvalidInput,
                fmt::format("kubeconfig {}: holds {} YAML documents, expected one", path,
                            parsed.documents.size()));
  const Node* root = parsed.documents.front();
  Reader rd(path);
  if (!root->isMapping()) return failWith(rd.error(root, "the document", "must be a map"));
  if (auto r =
          parseNamed<KubeCluster>(rd, root, "clusters", "cluster", parseCluster, config.clusters);
      !r)
    return failWith(r.error());
  if (auto r = parseNamed<KubeUser>(rd, root, "users", "user", parseUser, config.users); !r)
    return failWith(r.error());
  if (auto r =
          parseNamed<KubeContext>(rd, root, "contexts", "context", parseContext, config.contexts);
      !r)
    return failWith(r.error());
  auto current = rd.text(root, "current-context", "");
  if (!current)
    return failWith(rd.error(root->get("current-context"), "current-context", "must be a string"));
  config.currentContext = *current;
  return config;
}

void mergeKubeConfig(KubeConfig& into, KubeConfig&& from) {
  // clientcmd: "the first file to set a particular map key wins"; entries are never merged.
  for (auto& [k, v] : from.clusters) into.clusters.try_emplace(k, std::move(v));
  for (auto& [k, v] : from.users) into.users.try_emplace(k, std::move(v));
  for (auto& [k, v] : from.contexts) into.contexts.try_emplace(k, std::move(v));
  if (into.currentContext.empty()) into.currentContext = std::move(from.currentContext);
  for (auto& f : from.files) into.files.push_back(std::move(f));
}

Result<KubeConfig> loadKubeConfigFiles(const KubeConfigOptions& options) {
  auto loadOne = [](const std::string& path) -> Result<KubeConfig> {
    auto content = readWholeFile(path, kMaxKubeconfigBytes);
    if (!content) return failWith(content.error());
    return parseKubeConfig(path, *content);
  };
  if (!options.explicitPath.empty()) {
    auto content = readWholeFile(options.explicitPath, kMaxKubeconfigBytes);
    if (!content && content.error().code == ErrorCode::NotFound)
      return fail(ErrorCode::NotFound,
                  fmt::format("kubeconfig {}: no such file", options.explicitPath),
                  "check the --kubeconfig path");
    if (!content)
      return fail(content.error().code, fmt::format("kubeconfig {}", content.error().message));
    return parseKubeConfig(options.explicitPath, *content);
  }
  KubeConfig merged;
  if (options.kubeconfigEnv && !options.kubeconfigEnv->empty()) {
    std::set<std::string> seen;
    std::string_view list = *options.kubeconfigEnv;
    while (true) {
      size_t colon = list.find(':');
      std::string path(list.substr(0, colon));
      // Empty entries and repeats are skipped; files that do not exist are not an error.
      if (!path.empty() && seen.insert(path).second) {
        auto one = loadOne(path);
        if (!one && one.error().code != ErrorCode::NotFound) return one;
        if (one) mergeKubeConfig(merged, std::move(*one));
      }
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
    return merged;
  }
  if (options.home.empty()) return merged;
  std::string path = (fs::path(options.home) / ".kube" / "config").string();
  auto one = loadOne(path);
  if (!one && one.error().code == ErrorCode::NotFound) return merged;
  return one;
}

Result<RestConfig> resolveContext(const KubeConfig& config, const KubeConfigOptions& options) {
  std::string where = config.describe();
  std::string name = options.context.empty() ? config.currentContext : options.context;
  if (name.empty())
    return fail(ErrorCode::Usage, fmt::format("{}: no current-context is set", where),
                fmt::format("pass --context (contexts: {})", joinNames(config.contexts)));
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end())
    return fail(ErrorCode::Usage, fmt::format("{}: context \"{}\" not found", where, name),
                fmt::format("contexts: {}", joinNames(config.contexts)));
  const KubeContext& context = ctx->second;
  std::string owner = fmt::format("{}: context \"{}\"", where, name);
  if (context.cluster.empty())
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} ({}) names no cluster", owner, context.origin));
  auto cl = config.clusters.find(context.cluster);
  if (cl == config.clusters.end())
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("{} refers to cluster \"{}\", which is not defined", owner, context.cluster));
  const KubeCluster& cluster = cl->second;

  RestConfig rc;
  rc.source = where;
  rc.contextName = name;
  rc.clusterName = context.cluster;
  rc.userName = context.user;
  rc.namespace_ = !options.namespace_.empty()   ? options.namespace_
                  : !context.namespace_.empty() ? context.namespace_
                                                : "default";

  std::string clusterOwner =
      fmt::format("{}: cluster \"{}\" ({})", where, context.cluster, cluster.origin);
  if (cluster.server.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("{} has no server", clusterOwner));
  if (!cluster.server.starts_with("https://") && !cluster.server.starts_with("http://"))
    return fail(ErrorCode::InvalidInput, fmt::format("{}: server \"{}\" is not an http(s) URL",
                                                     clusterOwner, cluster.server));
  rc.server = cluster.server;
  while (rc.server.ends_with('/')) rc.server.pop_back();
  // clientcmd's validation refuses these pairs rather than guessing which one was meant.
  if (!cluster.certificateAuthority.empty() && !cluster.certificateAuthorityData.empty())
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: both certificate-authority and certificate-authority-data are set",
                            clusterOwner),
                "keep one of them");
  if (cluster.insecureSkipTlsVerify &&
      (!cluster.certificateAuthority.empty() || !cluster.certificateAuthorityData.empty()))
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("{}: insecure-skip-tls-verify is set together with a certificate authority",
                    clusterOwner),
        "remove insecure-skip-tls-verify: the CA is what makes the connection safe");
  rc.insecureSkipTlsVerify = cluster.insecureSkipTlsVerify;
  rc.tlsServerName = cluster.tlsServerName;
  if (!cluster.certificateAuthorityData.empty()) rc.caPem = cluster.certificateAuthorityData;
  if (!cluster.certificateAuthority.empty()) {
    auto ca =
        readCredentialFile(cluster.certificateAuthority, "certificate-authority", clusterOwner);
    if (!ca) return failWith(ca.error());
    rc.caPem = std::move(*ca);
  }
  if (!cluster.proxyUrl.empty())
    rc.warnings.push_back(fmt::format(
        "{}: proxy-url is not supported and is ignored; set HTTPS_PROXY instead", clusterOwner));

  if (context.user.empty()) return rc;  // anonymous, as kubectl allows
  auto us = config.users.find(context.user);
  if (us == config.users.end())
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} refers to user \"{}\", which is not defined", owner, context.user));
  const KubeUser& user = us->second;
  std::string userOwner = fmt::format("{}: user \"{}\" ({})", where, context.user, user.origin);
  if (!user.unsupported.empty()) {
    std::string list;
    for (const auto& k : user.unsupported) list += (list.empty() ? "" : ", ") + k;
    return fail(ErrorCode::Usage, fmt::format("{}: {} not supported", userOwner, list),
                "use a client certificate, a token or an exec credential plugin "
                "(client.authentication.k8s.io/v1)");
  }
  if (!user.clientCertificate.empty() && !user.clientCertificateData.empty())
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("{}: both client-certificate and client-certificate-data are set", userOwner));
  if (!user.clientKey.empty() && !user.clientKeyData.empty())
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: both client-key and client-key-data are set", userOwner));
  rc.clientCertPem = user.clientCertificateData;
  rc.clientKeyPem = user.clientKeyData;
  if (!user.clientCertificate.empty()) {
    auto c = readCredentialFile(user.clientCertificate, "client-certificate", userOwner);
    if (!c) return failWith(c.error());
    rc.clientCertPem = std::move(*c);
  }
  if (!user.clientKey.empty()) {
    auto k = readCredentialFile(user.clientKey, "client-key", userOwner);
    if (!k) return failWith(k.error());
    rc.clientKeyPem = std::move(*k);
  }
  if (rc.clientCertPem.empty() != rc.clientKeyPem.empty())
    return fail(
        ErrorCode::InvalidInput,
        fmt::format(
            "{}: a client certificate needs both a certificate and a key; only the {} is set",
            userOwner, rc.clientCertPem.empty() ? "key" : "certificate"));
  rc.token = user.token;
  rc.tokenFile = user.tokenFile;
  if (!rc.tokenFile.empty()) {
    // Read now so a missing file fails here, naming it; RestClient re-reads it as it rotates.
    auto t = readCredentialFile(rc.tokenFile, "tokenFile", userOwner);
    if (!t) return failWith(t.error());
  }
  rc.exec = user.exec;
  if (rc.exec && (!rc.token.empty() || !rc.tokenFile.empty()))
    rc.warnings.push_back(
        fmt::format("{}: both a token and an exec plugin are set; the token is used", userOwner));
  return rc;
}

Result<RestConfig> inClusterConfig(const KubeConfigOptions& options) {
  if (options.serviceHost.empty() || options.servicePort.empty())
    return fail(ErrorCode::NotFound,
                "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
                "not set");
  fs::path dir(options.serviceAccountDir);
  std::string tokenFile = (dir / "token").string();
  std::string owner = fmt::format("in-cluster config ({})", options.serviceAccountDir);
  auto token = readCredentialFile(tokenFile, "service account token", owner);
  if (!token) return failWith(token.error());
  RestConfig rc;
  rc.source = "in-cluster";
  rc.contextName = "in-cluster";
  // net.JoinHostPort: IPv6 literals need brackets.
  bool v6 = options.serviceHost.find(':') != std::string::npos;
  rc.server = fmt::format("https://{}{}{}:{}", v6 ? "[" : "", options.serviceHost, v6 ? "]" : "",
                          options.servicePort);
  rc.tokenFile = tokenFile;
  auto ca = readCredentialFile((dir / "ca.crt").string(), "CA", owner);
  if (!ca) return failWith(ca.error());
  rc.caPem = std::move(*ca);
  // client-go's in-cluster namespace: $POD_NAMESPACE, then the service account's, then default.
  rc.namespace_ = "default";
  if (!options.podNamespace.empty()) {
    rc.namespace_ = options.podNamespace;
  } else if (auto ns = readWholeFile(dir / "namespace", 4096); ns) {
    std::string_view v = *ns;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    if (!v.empty()) rc.namespace_ = std::string(v);
  }
  if (!options.namespace_.empty()) rc.namespace_ = options.namespace_;
  return rc;
}

Result<RestConfig> loadRestConfig(const KubeConfigOptions& options) {
  auto config = loadKubeConfigFiles(options);
  if (!config) return failWith(config.error());
  // clientcmd falls back to in-cluster only when nothing was configured or asked for.
  if (config->empty() && options.explicitPath.empty() && options.context.empty()) {
    auto incluster = inClusterConfig(options);
    if (incluster || incluster.error().code != ErrorCode::NotFound) return incluster;
    std::string looked =
        options.kubeconfigEnv && !options.kubeconfigEnv->empty()
            ? fmt::format("KUBECONFIG={}", *options.kubeconfigEnv)
            : fmt::format("{}/.kube/config", options.home.empty() ? "~" : options.home);
    return fail(
        ErrorCode::Usage,
        fmt::format(
            "no Kubernetes configuration: {} holds no contexts, and this is not a pod in a cluster",
            looked),
        "pass --kubeconfig or set KUBECONFIG");
  }
  return resolveContext(*config, options);
}

}  // namespace mesh::backends::kube
