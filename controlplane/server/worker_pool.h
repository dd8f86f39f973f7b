// WorkerPool: a fixed set of threads running posted tasks, and SerialQueue: tasks of one
// owner (an xDS stream) run one at a time and in order on that pool. Keeps generation work
// off gRPC's callback threads. Thread-safe; destroy the pool last (it joins its threads).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mesh::server {

class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(std::function<void()> task);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class SerialQueue : public std::enable_shared_from_this<SerialQueue> {
 public:
  explicit SerialQueue(WorkerPool& pool) : pool_(pool) {}
  void post(std::function<void()> task);

 private:
  void drain();

  WorkerPool& pool_;
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  bool running_ = false;
};

}  // namespace mesh::server
