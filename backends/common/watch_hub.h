// Fan-out of store changes to watch subscribers, shared by the backends. One dispatcher thread
// per hub runs every callback, one at a time, in publish order. Stores call publish() and
// subscribe() while holding the lock that orders their changes, which makes the order of
// events the order of changes and makes a replay atomic with respect to them.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "core/store/config_store.h"

namespace mesh::backends {

class WatchHub {
 public:
  WatchHub();
  ~WatchHub();  // drops undelivered events, waits for a running callback, joins the thread
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // `initial` (already filtered by the caller) is delivered to this subscriber first.
  core::Subscription subscribe(core::WatchCallback callback, core::Filter filter,
                               std::vector<core::WatchEvent> initial);
  // Queues each event for every subscriber whose filter matches it.
  void publish(const std::vector<core::WatchEvent>& events);
  void publish(core::WatchEvent event) { publish(std::vector<core::WatchEvent>{std::move(event)}); }

 private:
  struct State;
  static void run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace mesh::backends
