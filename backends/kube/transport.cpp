#include "backends/kube/transport.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace mesh::backends::kube {
namespace {

void globalInit() {
  // curl_global_init is not safe to race with other libcurl calls; do it once, early.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Transport::Transport() {
  globalInit();
  multi_ = curl_multi_init();
  if (!multi_) return;
  // HTTP/2 streams share a connection; a request waits for that connection rather than opening
  // a second one (CURLOPT_PIPEWAIT on each handle).
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  thread_ = std::thread([this] { run(); });
}

Transport::~Transport() {
  if (!multi_) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  curl_multi_wakeup(multi_);
  thread_.join();
  curl_multi_cleanup(multi_);
}

void Transport::finish(Op* op, CURLcode result) {
  op->result = result;
  op->done = true;
  doneCv_.notify_all();
}

CURLcode Transport::perform(CURL* easy, std::stop_token stop) {
  if (!multi_) return CURLE_FAILED_INIT;
  Op op;
  op.easy = easy;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return CURLE_ABORTED_BY_CALLBACK;
    pending_.push_back(&op);
  }
  curl_multi_wakeup(multi_);
  // Declared after `op`, so it is gone (and not running) before `op` is.
  std::stop_callback onStop(stop, [this, &op] {
    {
      std::lock_guard lock(mu_);
      if (!op.done) op.cancel = true;
    }
    curl_multi_wakeup(multi_);
  });
  std::unique_lock lock(mu_);
  doneCv_.wait(lock, [&] { return op.done; });
  return op.result;
}

void Transport::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    while (!pending_.empty()) {
      Op* op = pending_.front();
      pending_.pop_front();
      if (op->cancel || stopping_) {
        finish(op, CURLE_ABORTED_BY_CALLBACK);
        continue;
      }
      if (curl_multi_add_handle(multi_, op->easy) != CURLM_OK) {
        finish(op, CURLE_FAILED_INIT);
        continue;
      }
      active_.push_back(op);
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if ((*it)->cancel || stopping_) {
        curl_multi_remove_handle(multi_, (*it)->easy);
        finish(*it, CURLE_ABORTED_BY_CALLBACK);
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
    if (stopping_) return;

    // Transfers' callbacks run inside perform without our lock: they may ask for a stop.
    lock.unlock();
    int running = 0;
    curl_multi_perform(multi_, &running);
    std::vector<std::pair<CURL*, CURLcode>> completed;
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &queued))
      if (m->msg == CURLMSG_DONE) completed.emplace_back(m->easy_handle, m->data.result);
    for (auto& [easy, code] : completed) curl_multi_remove_handle(multi_, easy);
    lock.lock();
    for (auto& [easy, code] : completed) {
      auto it = std::find_if(active_.begin(), active_.end(),
                             [easy = easy](Op* op) { return op->easy == easy; });
      if (it == active_.end()) continue;
      finish(*it, code);
      active_.erase(it);
    }
    bool more = !pending_.empty() ||
                std::any_of(active_.begin(), active_.end(), [](Op* op) { return op->cancel; });
    if (more || stopping_) continue;
    lock.unlock();
    // Woken early by curl_multi_wakeup (new work, a cancel, shutdown) or by socket activity.
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    lock.lock();
  }
}

}  // namespace mesh::backends::kube
