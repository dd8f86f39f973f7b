#include "local/process_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/file/file_io.h"
#include "local/install_state.h"

namespace mesh::local {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxPidFileBytes = 64 * 1024;

std::string cmdlineText(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    out += a;
    out += '\0';
  }
  return out;
}

std::vector<std::string> splitCmdline(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nul = text.find('\0', start);
    if (nul == std::string_view::npos) nul = text.size();
    out.emplace_back(text.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

std::string readSmall(const fs::path& path) {
  auto text = backends::readWholeFile(path, kMaxPidFileBytes);
  return text ? *text : std::string();
}

// The one-letter state in /proc/PID/stat ('R', 'S', 'Z', ...); 0 when it cannot be read. The
// command name in parentheses may itself hold spaces and ')', so look after the last ')'.
char procState(pid_t pid) {
  std::string stat = readSmall(fmt::format("/proc/{}/stat", pid));
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

std::string describeWait(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return "stopped";
}

bool waitUntilGone(pid_t pid, const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);  // reaps it if meshctl is its parent; ECHILD otherwise
    if (!processMatches(pid, argv)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

bool processMatches(pid_t pid, const std::vector<std::string>& argv) {
  if (pid <= 0 || argv.empty()) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state = procState(pid);
  if (state == 0 || state == 'Z' || state == 'X' || state == 'x') return false;
  return splitCmdline(readSmall(fmt::format("/proc/{}/cmdline", pid))) == argv;
}

ProcessSupervisor::Status ProcessSupervisor::status(std::string_view component) const {
  Status s;
  std::string pidText = readSmall(home_.pidFile(component));
  if (pidText.empty()) return s;
  s.state = State::Stopped;
  try {
    s.record.pid = static_cast<pid_t>(std::stol(pidText));
  } catch (const std::exception&) {
    s.why = fmt::format("{} does not hold a pid", home_.pidFile(component).string());
    return s;
  }
  s.record.argv = splitCmdline(readSmall(home_.cmdlineFile(component)));
  if (processMatches(s.record.pid, s.record.argv)) {
    s.state = State::Running;
    return s;
  }
  bool alive = ::kill(s.record.pid, 0) == 0 || errno == EPERM;
  char state = alive ? procState(s.record.pid) : 0;
  if (alive && state != 'Z' && state != 0)
    s.why = fmt::format("pid {} (from {}) is another program now", s.record.pid, home_.pidFile(component).string());
  else
    s.why = fmt::format("pid {} (from {}) is not running", s.record.pid, home_.pidFile(component).string());
  return s;
}

std::vector<std::string> ProcessSupervisor::recorded() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(home_.runDir(), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".pid" && !p.stem().empty() && p.stem().string()[0] != '.') out.push_back(p.stem().string());
  }
  std::ranges::sort(out);
  return out;
}

Result<pid_t> ProcessSupervisor::start(std::string_view component, const std::vector<std::string>& argv) {
  if (argv.empty()) return fail(ErrorCode::Internal, fmt::format("{}: no command to run", component));
  fs::path logPath = home_.logFile(component);
  std::error_code ec;
  fs::create_directories(logPath.parent_path(), ec);
  fs::create_directories(home_.runDir(), ec);
  int logFd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0)
    return fail(ErrorCode::Io, fmt::format("{}: cannot open the log: {}", logPath.string(), std::strerror(errno)));
  // A header per start, so a log holding several runs shows where each one begins.
  std::string header = fmt::format("--- {} meshctl started: {}\n", nowRfc3339(), fmt::join(argv, " "));
  if (::write(logFd, header.data(), header.size()) < 0) { /* the log is best effort */ }
  int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int errPipe[2];
  if (nullFd < 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(logFd);
    if (nullFd >= 0) ::close(nullFd);
    return fail(ErrorCode::Io, fmt::format("cannot start {}: {}", component, std::strerror(err)));
  }
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string workDir = home_.root().string();
  rlimit files{};
  const int maxFd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                        ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536))
                        : 65536;

  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_DFL);
    ::dup2(nullFd, STDIN_FILENO);
    ::dup2(logFd, STDOUT_FILENO);
    ::dup2(logFd, STDERR_FILENO);
    // Nothing else of meshctl's leaks into a long-lived process (a caller's pipe kept open would
    // make whoever reads meshctl's output wait for meshd to exit).
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)  // kernels before 5.11 lack the flag
      for (int fd = 3; fd < maxFd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (::chdir(workDir.c_str()) != 0) { /* stay where we are; every path given is absolute */ }
    ::execv(args[0], args.data());
    int err = errno;
    if (::write(errPipe[1], &err, sizeof err) < 0) { /* the parent then sees a plain exit */ }
    ::_exit(127);
  }
  int forkErr = errno;
  ::close(errPipe[1]);
  ::close(logFd);
  ::close(nullFd);
  if (pid < 0) {
    ::close(errPipe[0]);
    return fail(ErrorCode::Io, fmt::format("cannot start {}: fork: {}", component, std::strerror(forkErr)));
  }
  // The pipe closes on a successful exec; an errno arrives when exec failed.
  int execErr = 0;
  ssize_t n;
  do n = ::read(errPipe[0], &execErr, sizeof execErr);
  while (n < 0 && errno == EINTR);
  ::close(errPipe[0]);
  if (n == static_cast<ssize_t>(sizeof execErr)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return fail(ErrorCode::Unavailable, fmt::format("cannot run {}: {}", argv[0], std::strerror(execErr)));
  }
  // The command line first, then the pid file: a pid file always has its command line beside it.
  if (auto ok = backends::writeFileAtomically(home_.cmdlineFile(component), cmdlineText(argv)); !ok) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Failure(ok.error());
  }
  if (auto ok = backends::writeFileAtomically(home_.pidFile(component), fmt::format("{}\n", pid)); !ok) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Failure(ok.error());
  }
  return pid;
}

std::optional<std::string> ProcessSupervisor::exitStatus(pid_t pid) const {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return describeWait(status);
  if (r < 0 && errno == ECHILD && ::kill(pid, 0) != 0 && errno == ESRCH) return std::string("exited");
  return std::nullopt;
}

Result<ProcessSupervisor::StopOutcome> ProcessSupervisor::stop(std::string_view component,
                                                               std::chrono::milliseconds grace) {
  Status s = status(component);
  if (s.state != State::Running) {
    forget(component);
    return StopOutcome::NotRunning;
  }
  const pid_t pid = s.record.pid;
  StopOutcome outcome = StopOutcome::Terminated;
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH)
    return fail(ErrorCode::Io, fmt::format("cannot stop {} (pid {}): {}", component, pid, std::strerror(errno)),
                "is it running as another user?");
  if (!waitUntilGone(pid, s.record.argv, grace)) {
    outcome = StopOutcome::Killed;
    ::kill(pid, SIGKILL);
    if (!waitUntilGone(pid, s.record.argv, std::chrono::seconds(5)))
      return fail(ErrorCode::Io, fmt::format("{} (pid {}) did not exit after SIGKILL", component, pid));
  }
  forget(component);
  return outcome;
}

void ProcessSupervisor::forget(std::string_view component) const {
  // The pid file first: without it the command line is never read.
  (void)backends::removeFileDurably(home_.pidFile(component));
  (void)backends::removeFileDurably(home_.cmdlineFile(component));
}

std::vector<std::string> tailFile(const fs::path& path, size_t lines, size_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(maxBytes) ? size - static_cast<std::streamoff>(maxBytes) : 0;
  in.seekg(from);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  std::vector<std::string> out;
  size_t start = 0;
  if (from > 0) {  // began mid-line: drop the partial first line
    size_t nl = text.find('\n');
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = nl + 1;
  }
  if (out.size() > lines) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(lines));
  return out;
}

}  // namespace mesh::local
