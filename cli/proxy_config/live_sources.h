// The live places proxy-config, proxy-status and authz read a proxy's config from, besides
// files: the proxy's own admin endpoint (--admin http://HOST:15000), and meshd's debug API for a
// connected PROXY (what meshd would send it). openProxySource() picks one by istioctl's rule of
// one source, in the order --admin, PROXY (meshd), --file. Main thread.
#pragma once

#include <memory>
#include <string>

#include "cli/meshd_client.h"
#include "cli/proxy_config/dump_source.h"

namespace mesh::cli::pc {

// GETs /config_dump, /config_dump?include_eds=true or /clusters?format=json from an Envoy-style
// admin endpoint (meshproxy's or a real Envoy's).
class AdminDumpSource final : public DumpSource {
 public:
  explicit AdminDumpSource(std::string baseUrl);
  Result<std::string> fetch(AdminResource resource) override;
  std::string describe() const override { return baseUrl_; }

 private:
  std::string baseUrl_;  // without a trailing slash
};

// meshd's GetConfigDump for one connected proxy, as the JSON an Envoy admin endpoint serves;
// /clusters is derived from the dump's endpoints (meshd's view of their health).
class MeshdDumpSource final : public DumpSource {
 public:
  MeshdDumpSource(MeshdClient client, std::string proxy) : client_(std::move(client)), proxy_(std::move(proxy)) {}
  Result<std::string> fetch(AdminResource resource) override;
  std::string describe() const override;

 private:
  MeshdClient client_;
  std::string proxy_;
};

struct ProxySourceFlags {
  std::string command;  // "cluster", "authz check": for istioctl's usage message
  std::string proxy;    // PROXY argument: pod name[.namespace] or node id
  std::string file;
  std::string admin;
  MeshdFlags meshd;
};

Result<std::unique_ptr<DumpSource>> openProxySource(const ProxySourceFlags& flags);

// The admin URL as given ("127.0.0.1:15000" gets http://), validated: http or https, a host.
Result<std::string> normalizeAdminUrl(const std::string& url);

}  // namespace mesh::cli::pc
