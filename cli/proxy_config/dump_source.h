// Where the documents proxy-config, proxy-status and authz read come from. Today files
// (--file, --istiod-file, --syncz-file); later a proxy's admin URL and meshd's debug gRPC API,
// which implement the same interfaces. Sources return JSON text as the admin endpoint or
// istiod would serve it; parse*() turn it into Envoy API messages for the writers.
// Sources are used from one thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace mesh::cli::pc {

// What is asked of a proxy's admin endpoint.
enum class AdminResource {
  ConfigDump,         // /config_dump
  ConfigDumpWithEds,  // /config_dump?include_eds=true
  Clusters,           // /clusters?format=json (envoy.admin.v3.Clusters)
};

class DumpSource {
 public:
  virtual ~DumpSource() = default;
  virtual Result<std::string> fetch(AdminResource resource) = 0;
  // Where the data comes from, for error messages ("envoy.json").
  virtual std::string describe() const = 0;
};

// A file holds one answer whatever is asked; "-" reads standard input.
class FileDumpSource final : public DumpSource {
 public:
  explicit FileDumpSource(std::string path) : path_(std::move(path)) {}
  Result<std::string> fetch(AdminResource resource) override;
  std::string describe() const override { return path_ == "-" ? "standard input" : path_; }

 private:
  std::string path_;
};

// istiod's istio.io/debug/syncz answers, by istiod name.
using SynczResponses = std::vector<std::pair<std::string, envoy::service::discovery::v3::DiscoveryResponse>>;

class SynczSource {
 public:
  virtual ~SynczSource() = default;
  virtual Result<SynczResponses> fetch() = 0;
};

// A JSON object mapping each istiod name to its DiscoveryResponse (proto3 JSON); sorted by name.
class FileSynczSource final : public SynczSource {
 public:
  explicit FileSynczSource(std::string path) : path_(std::move(path)) {}
  Result<SynczResponses> fetch() override;

 private:
  std::string path_;
};

// Reads a whole file ("-" for stdin), with istioctl's error wording.
Result<std::string> readInputFile(const std::string& path);

// `origin` names the input in errors.
Result<envoy::admin::v3::ConfigDump> parseConfigDump(std::string_view json, std::string_view origin = {});
// fetch + parse; errors say "failed to get config dump from file ..." like istioctl.
Result<envoy::admin::v3::ConfigDump> loadConfigDump(DumpSource& source, AdminResource resource);

}  // namespace mesh::cli::pc
