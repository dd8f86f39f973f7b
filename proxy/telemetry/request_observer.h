// RequestObserver: the data plane's telemetry sink. DataPlane calls it once per finished HTTP
// request and once per TCP connection opened and closed, on the worker thread that served it,
// with a RequestRecord it owns; implementations (IstioTelemetry: metrics and access log) must
// be thread-safe and cheap, since they run on the request path.
#pragma once

#include "proxy/telemetry/request_record.h"

namespace mesh::proxy::telemetry {

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void onRequest(const RequestRecord& r) = 0;
  virtual void onTcpOpened(const RequestRecord& r) = 0;
  virtual void onTcpClosed(const RequestRecord& r) = 0;
};

}  // namespace mesh::proxy::telemetry
