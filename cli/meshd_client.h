// A client of meshd's debug gRPC API (api/meshd/debug/v1/debug.proto) for the commands that ask
// the control plane: proxy-status, proxy-config and authz check on a PROXY, version, wait.
// Where meshd is: --meshd, else the local mesh's meshd (its state.yaml), else 127.0.0.1:15015;
// mTLS when --meshd-cert/--meshd-key/--meshd-ca are given. Blocking calls; main thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/result.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "meshd/debug/v1/debug.pb.h"

namespace mesh::cli {

namespace debugv1 = ::meshd::debug::v1;

struct MeshdFlags {
  std::string address;  // HOST:PORT; "" picks the default
  std::string tlsCert, tlsKey, tlsCa;
  std::chrono::milliseconds timeout{10000};
};

// Adds --meshd, --meshd-cert, --meshd-key and --meshd-ca to `cmd`.
void addMeshdFlags(CLI::App* cmd, MeshdFlags& flags);

class MeshdClient {
 public:
  // Usage errors for half-given mTLS flags or unreadable PEM files; connecting is lazy.
  static Result<MeshdClient> open(const MeshdFlags& flags);

  const std::string& address() const { return address_; }
  // "the local mesh's meshd", "--meshd", or "the default address": for error hints.
  const std::string& origin() const { return origin_; }

  Result<debugv1::ListProxiesResponse> listProxies() const;
  Result<envoy::admin::v3::ConfigDump> configDump(const std::string& proxy) const;
  Result<debugv1::VersionInfo> version() const;
  Result<debugv1::Distribution> distribution(const debugv1::GetDistributionRequest& request) const;

 private:
  struct Channel;
  MeshdClient(std::string address, std::string origin, std::shared_ptr<Channel> channel,
              std::chrono::milliseconds timeout);

  std::string address_;
  std::string origin_;
  std::shared_ptr<Channel> channel_;
  std::chrono::milliseconds timeout_;
};

}  // namespace mesh::cli
