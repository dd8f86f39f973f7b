#include "backends/file/dir_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "backends/file/file_io.h"

namespace mesh::backends {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace {

// What editors and tools do to a file: close after writing, rename over it (vim, our own
// writes, Kubernetes ConfigMap volumes), delete it; plus new directories and the root itself.
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Kubernetes ConfigMap and Secret volumes publish a new version by renaming a "..data" symlink.
constexpr std::string_view kAtomicWriterLink = "..data";

}  // namespace

Result<std::unique_ptr<DirWatcher>> DirWatcher::start(fs::path root, Options options,
                                                      Handler handler) {
  int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0)
    return fail(ErrorCode::Io, fmt::format("inotify_init1: {}", std::strerror(errno)),
                "raise fs.inotify.max_user_instances");
  int wfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wfd < 0) {
    int err = errno;
    ::close(ifd);
    return fail(ErrorCode::Io, fmt::format("eventfd: {}", std::strerror(err)));
  }
  std::unique_ptr<DirWatcher> w(
      new DirWatcher(std::move(root), options, std::move(handler), ifd, wfd));
  int wd = ::inotify_add_watch(ifd, w->root_.c_str(), kMask);
  if (wd < 0)
    return fail(ErrorCode::Io,
                fmt::format("{}: cannot watch: {}", w->root_.string(), std::strerror(errno)),
                "raise fs.inotify.max_user_watches, or open the store without watching");
  w->rootWd_ = wd;
  w->dirs_[wd] = "";
  w->addTree("");
  w->thread_ = std::thread([raw = w.get()] { raw->run(); });
  return w;
}

DirWatcher::DirWatcher(fs::path root, Options options, Handler handler, int inotifyFd, int wakeFd)
    : root_(std::move(root)),
      options_(options),
      handler_(std::move(handler)),
      inotifyFd_(inotifyFd),
      wakeFd_(wakeFd) {}

DirWatcher::~DirWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    while (::write(wakeFd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  ::close(inotifyFd_);
  ::close(wakeFd_);
}

void DirWatcher::addTree(const std::string& rel) {
  // Directories created inside a new one before its watch existed are found here; files in
  // them are found by the store's scan of the reported path, which runs after this.
  for (const std::string& dir : scanDirectories(root_, rel)) {
    if (dir.empty() && rootWd_ >= 0 && dirs_.contains(rootWd_)) continue;
    int wd = ::inotify_add_watch(inotifyFd_, (dir.empty() ? root_ : root_ / dir).c_str(), kMask);
    if (wd >= 0) dirs_[wd] = dir;
    if (wd >= 0 && dir.empty()) rootWd_ = wd;
  }
}

void DirWatcher::dropTree(const std::string& rel) {
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    if (it->first != rootWd_ && isUnder(it->second, rel)) {
      ::inotify_rm_watch(inotifyFd_, it->first);
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
}

void DirWatcher::dropAll() {
  for (const auto& [wd, dir] : dirs_) ::inotify_rm_watch(inotifyFd_, wd);
  dirs_.clear();
  rootWd_ = -1;
}

void DirWatcher::handle(const inotify_event& ev, Change& change) {
  if (ev.mask & IN_Q_OVERFLOW) {
    change.rescan = true;
    return;
  }
  auto it = dirs_.find(ev.wd);
  if (it == dirs_.end()) return;  // a watch already dropped; its IN_IGNORED and stragglers
  if (ev.mask & IN_IGNORED) {
    if (ev.wd == rootWd_) rootWd_ = -1;
    dirs_.erase(it);
    return;
  }
  if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
    // A subdirectory's own removal is reported by its parent; only the root matters here.
    if (ev.wd == rootWd_) {
      dropAll();
      rootGone_ = true;
      change.rootGone = true;
    }
    return;
  }
  std::string name = ev.len > 0 ? std::string(ev.name) : std::string();
  if (name.empty()) return;
  if (name == kAtomicWriterLink && (ev.mask & (IN_MOVED_TO | IN_CREATE))) {
    change.rescan = true;
    return;
  }
  if (name.starts_with('.')) return;  // editors' swap and lock files, our temporary files
  std::string rel = it->second.empty() ? name : it->second + "/" + name;
  if (ev.mask & IN_ISDIR) {
    if (ev.mask & (IN_CREATE | IN_MOVED_TO)) addTree(rel);
    if (ev.mask & (IN_DELETE | IN_MOVED_FROM)) dropTree(rel);
    change.paths.insert(rel);
    return;
  }
  if (!isConfigFileName(name)) return;  // backups (~), vim's 4913 probe, other extensions
  if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
    change.paths.insert(rel);
  } else if (ev.mask & IN_CREATE) {
    // A new regular file is read on its IN_CLOSE_WRITE, not half-written now; a symlink gets
    // no close event, so it is read at once.
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(root_ / rel, ec))) change.paths.insert(rel);
  }
}

bool DirWatcher::readEvents(Change& change) {
  alignas(inotify_event) char buf[64 * 1024];
  bool any = false;
  for (;;) {
    ssize_t n = ::read(inotifyFd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      handle(*ev, change);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
    any = true;
  }
  return any;
}

void DirWatcher::run() {
  Change pending;
  bool open = false;  // a batch has started
  Clock::time_point first, last;
  auto dueAt = [&] { return std::min(last + options_.debounce, first + options_.maxDelay); };
  for (;;) {
    int timeout = -1;
    if (open) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(dueAt() - Clock::now()).count();
      timeout = static_cast<int>(std::max<decltype(left)>(left, 0));
    } else if (rootGone_) {
      timeout = static_cast<int>(options_.rootPoll.count());
    }
    pollfd fds[2] = {{inotifyFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, timeout);
    if (rc < 0 && errno != EINTR) return;  // cannot happen with valid descriptors
    if (fds[1].revents) return;
    auto now = Clock::now();
    if ((fds[0].revents & POLLIN) && readEvents(pending)) {
      if (!open) first = now;
      open = true;
      last = now;
    }
    if (rootGone_ && !open) {
      std::error_code ec;
      if (fs::is_directory(root_, ec)) {
        int wd = ::inotify_add_watch(inotifyFd_, root_.c_str(), kMask);
        if (wd >= 0) {
          rootWd_ = wd;
          dirs_[wd] = "";
          addTree("");
          rootGone_ = false;
          pending.rescan = true;
          open = true;
          first = last = now;
        }
      }
    }
    if (open && now >= dueAt()) {
      if (pending.rescan || pending.rootGone || !pending.paths.empty()) handler_(pending);
      pending = Change{};
      open = false;
    }
  }
}

}  // namespace mesh::backends
