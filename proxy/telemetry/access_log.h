// Access logs as Envoy writes them for Istio: one line per request or TCP connection, in
// Istio's default TEXT format or as a JSON object with the same fields (meshConfig
// accessLogEncoding TEXT|JSON), to a file or /dev/stdout. Lines are formatted on the request's
// thread and written whole under a lock, so concurrent lines never interleave. Any thread.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "proxy/telemetry/request_record.h"

namespace mesh::proxy::telemetry {

enum class AccessLogEncoding { Text, Json };

// Istio's default format:
// [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
// %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% ... "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% ...
std::string formatTextLine(const RequestRecord& r);
// The same fields as a JSON object with Istio's JSON keys (start_time, method, path, ...).
std::string formatJsonLine(const RequestRecord& r);

class AccessLog {
 public:
  // `path` "/dev/stdout" (Istio's usual setting) or a file, appended to; "" turns logging off.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& path, AccessLogEncoding encoding);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void log(const RequestRecord& r);

 private:
  AccessLog(std::FILE* file, bool owned, AccessLogEncoding encoding)
      : file_(file), owned_(owned), encoding_(encoding) {}
  std::mutex mu_;
  std::FILE* file_;
  bool owned_;
  AccessLogEncoding encoding_;
};

}  // namespace mesh::proxy::telemetry
