#include "local/program_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mesh::local {

Result<Captured> runAndCapture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                               size_t maxBytes) {
  if (argv.empty()) return fail(ErrorCode::Internal, "runAndCapture: no command");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return fail(ErrorCode::Io, fmt::format("cannot run {}: {}", argv[0], std::strerror(errno)));
  int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (nullFd >= 0) ::dup2(nullFd, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int forkErr = errno;
  ::close(out[1]);
  if (nullFd >= 0) ::close(nullFd);
  if (pid < 0) {
    ::close(out[0]);
    return fail(ErrorCode::Io, fmt::format("cannot run {}: fork: {}", argv[0], std::strerror(forkErr)));
  }
  Captured result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timedOut = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;  // the deadline check above ends it
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: every writer has closed the pipe
    size_t room = maxBytes - std::min(maxBytes, result.output.size());
    result.output.append(buf, std::min(room, static_cast<size_t>(n)));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string gatewayUnsupportedReason(const std::filesystem::path& meshproxy) {
  constexpr auto kProbeTimeout = std::chrono::seconds(10);
  auto version = runAndCapture({meshproxy.string(), "--version"}, kProbeTimeout);
  if (!version) return version.error().message;
  if (version->timedOut) return fmt::format("{} --version did not answer within 10s", meshproxy.string());
  if (version->exitCode != 0)
    return fmt::format("{} --version failed (exit code {})", meshproxy.string(), version->exitCode);
  auto help = runAndCapture({meshproxy.string(), "--help"}, kProbeTimeout);
  if (!help || help->timedOut || help->exitCode != 0)
    return fmt::format("{} --help did not answer", meshproxy.string());
  // The flags the gateway start path passes (component.cpp); a build without them has no data
  // plane to run.
  for (std::string_view flag : {"--xds-address", "--id", "--admin-address", "--type", "--status-address", "--labels",
                                 "--outbound-bind"})
    if (help->output.find(flag) == std::string::npos) return "this meshproxy build has no data plane yet";
  // The local meshd's CA issues the gateways' certificates.
  if (help->output.find("--ca-root-cert") == std::string::npos)
    return "this meshproxy build cannot fetch its certificate from meshd's CA (no --ca-root-cert)";
  return "";
}

}  // namespace mesh::local
