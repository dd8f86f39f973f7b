// Transport: one libcurl multi handle driven by one thread. Every request of a RestClient runs
// on it, so requests and long-lived watches to one server share a single HTTP/2 connection
// (multiplexed streams, as client-go does with Go's http2 transport) and connections are reused.
// perform() may be called from any thread and blocks its caller; the easy handle's callbacks
// run on the transport thread, so they must be quick and must never wait for another request.
#pragma once

#include <curl/curl.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>

namespace mesh::backends::kube {

class Transport {
 public:
  Transport();
  ~Transport();  // aborts transfers still running (their perform() returns
                 // CURLE_ABORTED_BY_CALLBACK)
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // False when libcurl could not be set up (then perform() fails at once).
  bool ok() const { return multi_ != nullptr; }

  // Runs `easy` (configured by the caller, who keeps owning it) to completion. A stop request
  // aborts it promptly: the result is then CURLE_ABORTED_BY_CALLBACK.
  CURLcode perform(CURL* easy, std::stop_token stop = {});

 private:
  struct Op {
    CURL* easy = nullptr;
    CURLcode result = CURLE_OK;
    bool cancel = false;
    bool done = false;
  };

  void run();
  void finish(Op* op, CURLcode result);  // with mu_ held

  CURLM* multi_ = nullptr;
  std::mutex mu_;  // everything below; curl_multi_* is called only by the transport thread
  std::condition_variable doneCv_;
  std::deque<Op*> pending_;  // to add
  std::deque<Op*> active_;   // added to multi_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mesh::backends::kube
