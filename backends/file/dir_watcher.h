// DirWatcher: inotify on a directory tree, turned into debounced batches of changed paths for
// DirectoryStore. Its own thread polls inotify and an eventfd (to stop); the handler runs on
// that thread, one batch at a time. Linux only.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "core/result.h"

struct inotify_event;

namespace mesh::backends {

class DirWatcher {
 public:
  struct Options {
    // A batch closes once no event arrived for `debounce`, or `maxDelay` after its first event
    // (so a steady stream of writes cannot starve readers).
    std::chrono::milliseconds debounce{75};
    std::chrono::milliseconds maxDelay{1000};
    std::chrono::milliseconds rootPoll{500};  // how often to look for a vanished root again
  };
  struct Change {
    // Paths relative to the root ("ns/vs.yaml", or "ns" for a whole subtree) whose content may
    // have changed: files written, moved or deleted, directories created, moved or deleted.
    std::set<std::string> paths;
    bool rescan = false;  // everything may have changed (queue overflow, root back, ..data swap)
    bool rootGone =
        false;  // the root was deleted or moved away; nothing is watched until it is back
  };
  using Handler = std::function<void(const Change&)>;

  // Watches are in place when this returns, so a scan made afterwards misses nothing.
  static Result<std::unique_ptr<DirWatcher>> start(std::filesystem::path root, Options options,
                                                   Handler handler);
  ~DirWatcher();  // wakes the thread and joins it; a handler already running finishes first
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

 private:
  DirWatcher(std::filesystem::path root, Options options, Handler handler, int inotifyFd,
             int wakeFd);
  void run();
  bool readEvents(Change& change);
  void handle(const inotify_event& ev, Change& change);
  void addTree(const std::string& rel);
  void dropTree(const std::string& rel);
  void dropAll();

  const std::filesystem::path root_;
  const Options options_;
  const Handler handler_;
  int inotifyFd_;
  int wakeFd_;
  std::map<int, std::string> dirs_;  // watch descriptor → directory relative to the root
  int rootWd_ = -1;
  bool rootGone_ = false;
  std::thread thread_;
};

}  // namespace mesh::backends
