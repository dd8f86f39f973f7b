#include "backends/common/watch_hub.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

namespace mesh::backends {

struct WatchHub::State {
  struct Subscriber {
    core::WatchCallback callback;
    core::Filter filter;
  };
  struct Delivery {
    uint64_t subscriber;
    std::shared_ptr<const core::WatchEvent> event;
  };

  std::mutex mu;
  std::condition_variable wake;  // the dispatcher: work arrived or stop
  std::condition_variable idle;  // cancel(): the running callback returned
  std::deque<Delivery> queue;
  std::map<uint64_t, std::shared_ptr<Subscriber>> subscribers;
  uint64_t nextId = 1;
  uint64_t running = 0;  // id whose callback runs now, 0 when none
  std::thread::id dispatcher;
  bool stop = false;

  void cancel(uint64_t id) {
    std::unique_lock lock(mu);
    subscribers.erase(id);
    // Unsubscribing from inside the callback must not wait for itself.
    if (std::this_thread::get_id() == dispatcher) return;
    idle.wait(lock, [&] { return running != id; });
  }
};

WatchHub::WatchHub() : state_(std::make_shared<State>()) {
  thread_ = std::thread([s = state_] { run(s); });
  std::lock_guard lock(state_->mu);
  state_->dispatcher = thread_.get_id();
}

WatchHub::~WatchHub() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    state_->queue.clear();
  }
  state_->wake.notify_all();
  thread_.join();
}

core::Subscription WatchHub::subscribe(core::WatchCallback callback, core::Filter filter,
                                       std::vector<core::WatchEvent> initial) {
  uint64_t id;
  {
    std::lock_guard lock(state_->mu);
    id = state_->nextId++;
    auto sub = std::make_shared<State::Subscriber>(
        State::Subscriber{std::move(callback), std::move(filter)});
    state_->subscribers.emplace(id, std::move(sub));
    for (auto& e : initial)
      state_->queue.push_back({id, std::make_shared<const core::WatchEvent>(std::move(e))});
  }
  if (!initial.empty()) state_->wake.notify_all();
  return core::Subscription([weak = std::weak_ptr<State>(state_), id] {
    if (auto s = weak.lock()) s->cancel(id);
  });
}

void WatchHub::publish(const std::vector<core::WatchEvent>& events) {
  bool queued = false;
  {
    std::lock_guard lock(state_->mu);
    for (const auto& e : events) {
      auto shared = std::make_shared<const core::WatchEvent>(e);
      core::ResourceKey key = e.item.key();
      for (const auto& [id, sub] : state_->subscribers) {
        if (!sub->filter.matches(key)) continue;
        state_->queue.push_back({id, shared});
        queued = true;
      }
    }
  }
  if (queued) state_->wake.notify_all();
}

void WatchHub::run(const std::shared_ptr<State>& s) {
  std::unique_lock lock(s->mu);
  for (;;) {
    s->wake.wait(lock, [&] { return s->stop || !s->queue.empty(); });
    if (s->stop) return;
    State::Delivery d = std::move(s->queue.front());
    s->queue.pop_front();
    auto it = s->subscribers.find(d.subscriber);
    if (it == s->subscribers.end()) continue;
    std::shared_ptr<State::Subscriber> sub = it->second;
    s->running = d.subscriber;
    lock.unlock();
    try {
      sub->callback(*d.event);
    } catch (...) {
      // A callback's exception must not end delivery to everyone else; the subscriber owns
      // its errors (STYLE.md: exceptions never cross a module boundary).
    }
    d.event.reset();
    sub.reset();
    lock.lock();
    s->running = 0;
    s->idle.notify_all();
  }
}

}  // namespace mesh::backends
