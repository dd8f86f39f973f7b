#include "cli/proxy_config/endpoint_writer.h"

#include <fmt/format.h>

#include <strings.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/tabwriter.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"

namespace mesh::cli::pc {

namespace gp = google::protobuf;
using envoy::config::core::v3::Address;

namespace {

constexpr std::string_view kClustersType = "envoy.admin.v3.Clusters";

bool equalFold(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Reflection helpers for the dynamic admin messages.
const gp::FieldDescriptor* field(const gp::Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}
std::vector<const gp::Message*> repeated(const gp::Message& m, const char* name) {
  std::vector<const gp::Message*> out;
  const gp::FieldDescriptor* fd = field(m, name);
  if (fd == nullptr) return out;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, fd); ++i)
    out.push_back(&m.GetReflection()->GetRepeatedMessage(m, fd, i));
  return out;
}
std::string str(const gp::Message& m, const char* name) {
  const gp::FieldDescriptor* fd = field(m, name);
  return fd ? m.GetReflection()->GetString(m, fd) : "";
}
const gp::Message* sub(const gp::Message& m, const char* name) {
  const gp::FieldDescriptor* fd = field(m, name);
  return fd ? &m.GetReflection()->GetMessage(m, fd) : nullptr;
}

struct Host {
  Address address;
  int status = 0;  // envoy.config.core.v3.HealthStatus
  bool failedOutlierCheck = false;
};

Host readHost(const gp::Message& host) {
  Host h;
  if (const gp::Message* a = sub(host, "address")) h.address.ParseFromString(a->SerializeAsString());
  if (const gp::Message* hs = sub(host, "health_status")) {
    const gp::Reflection* r = hs->GetReflection();
    if (const auto* fd = field(*hs, "eds_health_status")) h.status = r->GetEnumValue(*hs, fd);
    if (const auto* fd = field(*hs, "failed_outlier_check")) h.failedOutlierCheck = r->GetBool(*hs, fd);
  }
  return h;
}

std::string hostAddress(const Host& h) {
  if (h.address.has_socket_address()) return h.address.socket_address().address();
  return "unix://" + h.address.pipe().path();
}
uint32_t hostPort(const Host& h) {
  return h.address.has_socket_address() ? h.address.socket_address().port_value() : 0;
}
std::string statusName(int status) {
  return envoy::config::core::v3::HealthStatus_IsValid(status)
             ? envoy::config::core::v3::HealthStatus_Name(static_cast<envoy::config::core::v3::HealthStatus>(status))
             : "";
}

bool verify(const ClustersEndpointFilter& f, const Host& h, const std::string& cluster) {
  if (f.address.empty() && f.port == 0 && f.cluster.empty() && f.status.empty()) return true;
  if (!f.address.empty() && !equalFold(hostAddress(h), f.address)) return false;
  if (f.port != 0 && hostPort(h) != f.port) return false;
  if (!f.cluster.empty() && !equalFold(cluster, f.cluster)) return false;
  if (!f.status.empty() && !equalFold(statusName(h.status), f.status)) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<gp::Message>> parseClusters(std::string_view json) {
  auto binary = TypeRegistry::instance().jsonToBinary(kClustersType, json);
  std::unique_ptr<gp::Message> clusters = TypeRegistry::instance().newMessage(kClustersType);
  if (!binary || clusters == nullptr || !clusters->ParseFromString(*binary)) {
    std::string reason = binary ? "invalid protobuf" : binary.error().message;
    return fail(ErrorCode::InvalidInput, fmt::format("error unmarshalling config dump response from Envoy: {}",
                                                     reason.substr(0, reason.find('\n'))));
  }
  return clusters;
}

std::string endpointSummary(const gp::Message& clusters, const ClustersEndpointFilter& filter) {
  struct Row {
    std::string address;
    uint32_t port;
    std::string cluster;
    int status;
    bool failedOutlierCheck;
  };
  std::vector<Row> rows;
  for (const gp::Message* cluster : repeated(clusters, "cluster_statuses")) {
    std::string name = str(*cluster, "name");
    for (const gp::Message* hostMsg : repeated(*cluster, "host_statuses")) {
      Host h = readHost(*hostMsg);
      if (verify(filter, h, name)) rows.push_back({hostAddress(h), hostPort(h), name, h.status, h.failedOutlierCheck});
    }
  }
  goSortSlice(rows, [](const Row& a, const Row& b) {
    if (a.address != b.address) return a.address < b.address;
    if (a.port != b.port) return a.port < b.port;
    return a.cluster < b.cluster;
  });
  TabWriter w(0, 8, 5);
  w.write("ENDPOINT\tSTATUS\tOUTLIER CHECK\tCLUSTER\n");
  for (const Row& r : rows) {
    std::string endpoint = r.port != 0 ? fmt::format("{}:{}", r.address, r.port) : r.address;
    w.write(fmt::format("{}\t{}\t{}\t{}\n", endpoint, statusName(r.status), r.failedOutlierCheck ? "FAILED" : "OK",
                        r.cluster));
  }
  return w.flush();
}

std::string endpointDump(const gp::Message& clusters, const ClustersEndpointFilter& filter, OutputFormat format) {
  std::vector<const gp::Message*> selected;
  for (const gp::Message* cluster : repeated(clusters, "cluster_statuses")) {
    std::string name = str(*cluster, "name");
    for (const gp::Message* hostMsg : repeated(*cluster, "host_statuses")) {
      if (verify(filter, readHost(*hostMsg), name)) {
        selected.push_back(cluster);
        break;
      }
    }
  }
  return printMessageList(selected, format);
}

}  // namespace mesh::cli::pc
