#include "backends/kube/exec_credential.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends/kube/codec.h"

extern char** environ;

namespace mesh::backends::kube {
namespace {

using Clock = std::chrono::steady_clock;

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct RunOutput {
  int status = 0;  // waitpid status
  std::string out;
  std::string err;
  bool outTooLarge = false;
};

std::string execInfo(const ExecConfig& config, const ExecClusterInfo& cluster) {
  nlohmann::json spec = {{"interactive", false}};
  if (config.provideClusterInfo) {
    nlohmann::json c = {{"server", cluster.server}};
    if (!cluster.tlsServerName.empty()) c["tls-server-name"] = cluster.tlsServerName;
    if (cluster.insecureSkipTlsVerify) c["insecure-skip-tls-verify"] = true;
    if (!cluster.caPem.empty()) c["certificate-authority-data"] = base64Encode(cluster.caPem);
    spec["cluster"] = std::move(c);
  }
  nlohmann::json info = {
      {"apiVersion", config.apiVersion}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
  return info.dump();
}

// A command with a '/' is a path, relative ones resolved against the kubeconfig's directory
// (clientcmd); a bare name is looked up in PATH by posix_spawnp.
std::string resolveCommand(const ExecConfig& config) {
  if (config.command.find('/') == std::string::npos) return config.command;
  std::filesystem::path p(config.command);
  if (p.is_absolute() || config.baseDir.empty()) return config.command;
  return (std::filesystem::path(config.baseDir) / p).lexically_normal().string();
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return std::string(s);
}

Result<RunOutput> spawnAndCollect(const ExecConfig& config, const ExecClusterInfo& cluster,
                                  const ExecOptions& options) {
  std::string command = resolveCommand(config);
  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0)
    return fail(ErrorCode::Io, fmt::format("exec plugin \"{}\": cannot create a pipe: {}",
                                           config.command, std::strerror(errno)));
  Fd outRead(outPipe[0]), outWrite(outPipe[1]);
  if (::pipe2(errPipe, O_CLOEXEC) != 0)
    return fail(ErrorCode::Io, fmt::format("exec plugin \"{}\": cannot create a pipe: {}",
                                           config.command, std::strerror(errno)));
  Fd errRead(errPipe[0]), errWrite(errPipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // Not interactive: the plugin gets no terminal to prompt on.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, outWrite.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, errWrite.fd, 2);

  // Our environment, then the kubeconfig's env entries, then KUBERNETES_EXEC_INFO.
  std::vector<std::string> env;
  auto overridden = [&](std::string_view entry) {
    std::string_view name = entry.substr(0, entry.find('='));
    if (name == "KUBERNETES_EXEC_INFO") return true;
    for (const auto& [k, v] : config.env)
      if (k == name) return true;
    return false;
  };
  for (char** e = environ; e && *e; ++e)
    if (!overridden(*e)) env.emplace_back(*e);
  for (const auto& [k, v] : config.env) env.push_back(k + "=" + v);
  env.push_back("KUBERNETES_EXEC_INFO=" + execInfo(config, cluster));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argStore{command};
  for (const auto& a : config.args) argStore.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argStore) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  bool bare = command.find('/') == std::string::npos;
  int rc = bare ? ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data())
                : ::posix_spawn(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    if (rc == ENOENT || rc == EACCES || rc == ENOEXEC) {
      std::string hint = config.installHint.empty()
                             ? "install the credential plugin this kubeconfig user needs, or fix "
                               "users[].user.exec.command"
                             : trimmed(config.installHint);
      return fail(ErrorCode::NotFound,
                  fmt::format("exec plugin: cannot run \"{}\": {}", command,
                              rc == ENOENT ? "executable not found" : std::strerror(rc)),
                  hint);
    }
    return fail(ErrorCode::Io,
                fmt::format("exec plugin: cannot run \"{}\": {}", command, std::strerror(rc)));
  }
  outWrite.reset();
  errWrite.reset();

  RunOutput result;
  auto deadline = Clock::now() + options.timeout;
  bool timedOut = false;
  std::vector<pollfd> fds = {{outRead.fd, POLLIN, 0}, {errRead.fd, POLLIN, 0}};
  char buf[8192];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        fds[i].fd = -1;  // EOF (the Fd wrappers close it)
        continue;
      }
      std::string& sink = i == 0 ? result.out : result.err;
      size_t cap = i == 0 ? options.maxOutputBytes : options.maxErrorBytes;
      size_t room = sink.size() < cap ? cap - sink.size() : 0;
      sink.append(buf, std::min(room, static_cast<size_t>(got)));
      if (i == 0 && static_cast<size_t>(got) > room) {
        result.outTooLarge = true;
        timedOut = false;
        fds[0].fd = fds[1].fd = -1;
      }
    }
  }
  // Stop a plugin that hangs or floods us; only our own child, by its pid.
  if (timedOut || result.outTooLarge) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = status;
  if (timedOut)
    return fail(
        ErrorCode::Unavailable,
        fmt::format("exec plugin \"{}\" did not finish within {}s and was stopped", config.command,
                    std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count()));
  return result;
}

std::string stderrNote(const std::string& err) {
  std::string t = trimmed(err);
  return t.empty() ? std::string() : fmt::format(": {}", t);
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text.size() < 20 ||
      text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60)
    return std::nullopt;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  long offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= text.size() || text[pos + 3] != ':') return std::nullopt;
    offset = (*oh * 3600L + *om * 60L) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  time_t t = ::timegm(&tm) - offset;
  // system_clock counts nanoseconds and ends in 2262: "never expires" values stop at 2200.
  constexpr time_t kLatest = 7258118400;  // 2200-01-01T00:00:00Z
  return std::chrono::system_clock::from_time_t(std::min(t, kLatest));
}

Result<ExecCredential> runExecPlugin(const ExecConfig& config, const ExecClusterInfo& cluster,
                                     const ExecOptions& options) {
  if (config.interactiveMode == "Always")
    return fail(
        ErrorCode::Usage,
        fmt::format(
            "exec plugin \"{}\" needs an interactive terminal (interactiveMode: Always), which "
            "meshctl does not give it",
            config.command),
        "log in with the plugin first, or set interactiveMode: IfAvailable if it can work without "
        "one");
  auto run = spawnAndCollect(config, cluster, options);
  if (!run) return Failure(run.error());
  std::string name = config.command;
  if (run->outTooLarge)
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("exec plugin \"{}\" printed more than {} bytes", name, options.maxOutputBytes));
  if (WIFSIGNALED(run->status))
    return fail(ErrorCode::Unavailable,
                fmt::format("exec plugin \"{}\" was killed by signal {}{}", name,
                            WTERMSIG(run->status), stderrNote(run->err)));
  if (WIFEXITED(run->status) && WEXITSTATUS(run->status) != 0)
    return fail(ErrorCode::Unavailable,
                fmt::format("exec plugin \"{}\" failed with exit code {}{}", name,
                            WEXITSTATUS(run->status), stderrNote(run->err)));
  auto doc = parseJson(run->out, fmt::format("the output of exec plugin \"{}\"", name));
  if (!doc) return Failure(doc.error());
  if (!doc->is_object())
    return fail(ErrorCode::InvalidInput,
                fmt::format("exec plugin \"{}\" printed JSON that is not an ExecCredential", name));
  std::string kind = stringAt(*doc, "kind");
  std::string apiVersion = stringAt(*doc, "apiVersion");
  if (kind != "ExecCredential")
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("exec plugin \"{}\" printed kind \"{}\", expected ExecCredential", name, kind));
  // client-go insists the plugin answer in the version it was asked in.
  if (apiVersion != config.apiVersion)
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("exec plugin \"{}\" is configured to use API version {}, but returned {}", name,
                    config.apiVersion, apiVersion.empty() ? "none" : apiVersion));
  auto status = doc->find("status");
  if (status == doc->end() || !status->is_object())
    return fail(ErrorCode::InvalidInput,
                fmt::format("exec plugin \"{}\" returned no status", name));
  ExecCredential cred;
  cred.token = stringAt(*status, "token");
  cred.clientCertPem = stringAt(*status, "clientCertificateData");
  cred.clientKeyPem = stringAt(*status, "clientKeyData");
  if (cred.clientCertPem.empty() != cred.clientKeyPem.empty())
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("exec plugin \"{}\" returned {} without {}", name,
                    cred.clientCertPem.empty() ? "clientKeyData" : "clientCertificateData",
                    cred.clientCertPem.empty() ? "clientCertificateData" : "clientKeyData"));
  if (cred.token.empty() && cred.clientCertPem.empty())
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("exec plugin \"{}\" returned neither a token nor a client certificate and key",
                    name));
  if (std::string exp = stringAt(*status, "expirationTimestamp"); !exp.empty()) {
    cred.expiry = parseRfc3339(exp);
    if (!cred.expiry)
      return fail(
          ErrorCode::InvalidInput,
          fmt::format(
              "exec plugin \"{}\" returned expirationTimestamp \"{}\", which is not RFC 3339", name,
              exp));
  }
  return cred;
}

ExecCredentialPlugin::ExecCredentialPlugin(ExecConfig config, ExecClusterInfo cluster,
                                           ExecOptions options)
    : config_(std::move(config)), cluster_(std::move(cluster)), options_(options) {}

Result<ExecCredential> ExecCredentialPlugin::get() {
  std::lock_guard lock(mu_);
  if (cached_ && (!cached_->expiry || std::chrono::system_clock::now() < *cached_->expiry))
    return *cached_;
  cached_.reset();
  ++runs_;
  auto fresh = runExecPlugin(config_, cluster_, options_);
  if (!fresh) return fresh;
  cached_ = *fresh;
  return fresh;
}

void ExecCredentialPlugin::invalidate(const ExecCredential& used) {
  std::lock_guard lock(mu_);
  if (cached_ && cached_->token == used.token && cached_->clientCertPem == used.clientCertPem)
    cached_.reset();
}

size_t ExecCredentialPlugin::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

}  // namespace mesh::backends::kube
