#include "cli/proxy_config/meshd_syncz.h"

#include <map>
#include <nlohmann/json.hpp>

#include "envoy/service/status/v3/csds.pb.h"

namespace mesh::cli::pc {

namespace status = envoy::service::status::v3;

namespace {

status::ConfigStatus configStatus(const debugv1::TypeSyncStatus& t) {
  if (t.sent_nonce().empty()) return status::NOT_SENT;
  if (!t.last_nack().empty()) return status::ERROR;
  if (t.acked_nonce() == t.sent_nonce()) return status::SYNCED;
  return status::STALE;
}

void setString(google::protobuf::Struct& md, const char* key, const std::string& value) {
  if (!value.empty()) (*md.mutable_fields())[key].set_string_value(value);
}

}  // namespace

SynczResponses synczFromMeshd(const debugv1::ListProxiesResponse& proxies) {
  std::map<std::string, envoy::service::discovery::v3::DiscoveryResponse> byInstance;
  for (const debugv1::ProxySyncStatus& p : proxies.proxies()) {
    auto& dr = byInstance[p.meshd_instance()];
    if (!dr.has_control_plane()) {
      dr.set_type_url("type.googleapis.com/envoy.service.status.v3.ClientConfig");
      dr.mutable_control_plane()->set_identifier(
          nlohmann::json{{"Component", "meshd"}, {"ID", p.meshd_instance()}}.dump());
    }
    status::ClientConfig cc;
    cc.mutable_node()->set_id(p.proxy_id());
    auto& md = *cc.mutable_node()->mutable_metadata();
    auto dot = p.name().rfind('.');
    if (dot != std::string::npos) setString(md, "NAMESPACE", p.name().substr(dot + 1));
    setString(md, "CLUSTER_ID", p.cluster_id());
    setString(md, "ISTIO_VERSION", p.proxy_version());
    for (const debugv1::TypeSyncStatus& t : p.types()) {
      auto* x = cc.add_generic_xds_configs();
      x->set_type_url(t.type_url());
      x->set_config_status(configStatus(t));
      x->set_version_info(t.acked_version());
    }
    dr.add_resources()->PackFrom(cc);
  }
  SynczResponses out;
  for (auto& [instance, dr] : byInstance) out.emplace_back(instance, std::move(dr));
  return out;
}

}  // namespace mesh::cli::pc
