#include "cli/proxy_config/live_sources.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "cli/proxy_config/config_dump.h"
#include "local/readiness.h"

namespace mesh::cli::pc {

namespace {

// A big mesh's dump runs to tens of MB; more than this is not a config dump.
constexpr size_t kMaxAdminBody = 256u << 20;

std::string_view adminPath(AdminResource resource) {
  switch (resource) {
    case AdminResource::ConfigDump:
      return "/config_dump";
    case AdminResource::ConfigDumpWithEds:
      return "/config_dump?include_eds=true";
    case AdminResource::Clusters:
      return "/clusters?format=json";
  }
  return "/config_dump";
}

// envoy.admin.v3.Clusters from the endpoints meshd would send: one host status per endpoint,
// with the EDS health status as meshd knows it.
std::string clustersFromDump(const envoy::admin::v3::ConfigDump& dump) {
  nlohmann::ordered_json statuses = nlohmann::ordered_json::array();
  ConfigDumpView view(dump);
  auto endpoints = view.endpoints();
  if (endpoints) {
    for (const auto& dynamic : endpoints->dynamic_endpoint_configs()) {
      envoy::config::endpoint::v3::ClusterLoadAssignment cla;
      if (!unpackAny(dynamic.endpoint_config(), cla)) continue;
      nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
      for (const auto& locality : cla.endpoints())
        for (const auto& lb : locality.lb_endpoints()) {
          const auto& sa = lb.endpoint().address().socket_address();
          nlohmann::ordered_json host = {
              {"address", {{"socket_address", {{"address", sa.address()}, {"port_value", sa.port_value()}}}}},
              {"health_status",
               {{"eds_health_status", envoy::config::core::v3::HealthStatus_Name(lb.health_status())}}},
              {"weight", lb.has_load_balancing_weight() ? lb.load_balancing_weight().value() : 1u}};
          if (locality.has_locality())
            host["locality"] = {{"region", locality.locality().region()},
                                {"zone", locality.locality().zone()},
                                {"sub_zone", locality.locality().sub_zone()}};
          hosts.push_back(std::move(host));
        }
      statuses.push_back({{"name", cla.cluster_name()}, {"host_statuses", std::move(hosts)}});
    }
  }
  return nlohmann::ordered_json{{"cluster_statuses", std::move(statuses)}}.dump();
}

}  // namespace

Result<std::string> normalizeAdminUrl(const std::string& url) {
  std::string out = url.find("://") == std::string::npos ? "http://" + url : url;
  if (!out.starts_with("http://") && !out.starts_with("https://"))
    return fail(ErrorCode::Usage, fmt::format("--admin {}: use http://HOST:PORT (a proxy's admin endpoint)", url));
  while (out.ends_with('/')) out.pop_back();
  if (out.size() <= out.find("://") + 3)
    return fail(ErrorCode::Usage, fmt::format("--admin {}: no host in the URL", url));
  return out;
}

AdminDumpSource::AdminDumpSource(std::string baseUrl) : baseUrl_(std::move(baseUrl)) {}

Result<std::string> AdminDumpSource::fetch(AdminResource resource) {
  std::string url = baseUrl_ + std::string(adminPath(resource));
  auto reply = local::httpGet(url, std::chrono::seconds(30), kMaxAdminBody);
  if (!reply)
    return fail(ErrorCode::Unavailable, fmt::format("failed to get config dump from {}: {}", url, reply.error().message),
                "is the proxy running, and is this its admin address (Envoy's default is 127.0.0.1:15000)?");
  if (reply->status != 200)
    return fail(ErrorCode::Unavailable,
                fmt::format("failed to get config dump from {}: HTTP {}: {}", url, reply->status,
                            reply->body.substr(0, 200)));
  return std::move(reply->body);
}

std::string MeshdDumpSource::describe() const {
  return fmt::format("meshd {} (proxy {})", client_.address(), proxy_);
}

Result<std::string> MeshdDumpSource::fetch(AdminResource resource) {
  auto dump = client_.configDump(proxy_);
  if (!dump) {
    Error e = dump.error();
    if (e.code == ErrorCode::NotFound)
      e.hint = "`meshctl proxy-status` lists the proxies connected to meshd";
    return Failure(std::move(e));
  }
  if (resource == AdminResource::Clusters) return clustersFromDump(*dump);
  if (resource == AdminResource::ConfigDump) {
    // Envoy leaves endpoints out of /config_dump unless asked.
    auto* configs = dump->mutable_configs();
    for (int i = configs->size() - 1; i >= 0; --i)
      if (configs->Get(i).type_url().ends_with("envoy.admin.v3.EndpointsConfigDump")) configs->DeleteSubrange(i, 1);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(*dump, &json, options);
  if (!status.ok())
    return fail(ErrorCode::Internal, fmt::format("meshd's config dump for {}: {}", proxy_, status.ToString()));
  return json;
}

Result<std::unique_ptr<DumpSource>> openProxySource(const ProxySourceFlags& flags) {
  if (!flags.admin.empty()) {
    if (!flags.file.empty()) return fail(ErrorCode::Usage, "give either --admin or --file, not both");
    auto url = normalizeAdminUrl(flags.admin);
    if (!url) return Failure(url.error());
    return std::unique_ptr<DumpSource>(std::make_unique<AdminDumpSource>(*url));
  }
  if (flags.proxy.empty() == flags.file.empty())
    return fail(ErrorCode::Usage, fmt::format("{} requires pod name or --file parameter", flags.command));
  if (!flags.file.empty()) return std::unique_ptr<DumpSource>(std::make_unique<FileDumpSource>(flags.file));
  auto client = MeshdClient::open(flags.meshd);
  if (!client) return Failure(client.error());
  return std::unique_ptr<DumpSource>(std::make_unique<MeshdDumpSource>(std::move(*client), flags.proxy));
}

}  // namespace mesh::cli::pc
