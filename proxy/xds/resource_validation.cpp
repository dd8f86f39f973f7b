#include "proxy/xds/resource_validation.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/xds/envoy_types.h"

namespace mesh::proxy {
namespace {

namespace gp = google::protobuf;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr std::string_view kHcmType =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
// Real configs nest under 20 deep; a deeper Any chain is hostile.
constexpr int kMaxDepth = 64;

Result<void> checkRegex(const std::string& pattern, uint32_t maxProgramSize, const std::string& path) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok()) return fail(ErrorCode::InvalidInput, fmt::format("{}: invalid regex {:?}: {}", path, pattern, re.error()));
  if (re.ProgramSize() > static_cast<int>(maxProgramSize))
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: regex {:?} RE2 program size of {} > max program size of {} set for the error level "
                            "threshold",
                            path, pattern, re.ProgramSize(), maxProgramSize));
  return {};
}

// Walks every field: resolves and parses each Any (and recurses into it), checks each
// envoy.type.matcher.v3.RegexMatcher. Works on generated and dynamic messages alike.
Result<void> walk(const gp::Message& message, const std::string& path, int depth) {
  if (depth > kMaxDepth) return fail(ErrorCode::InvalidInput, fmt::format("{}: nested deeper than {}", path, kMaxDepth));
  const gp::Descriptor* desc = message.GetDescriptor();
  const gp::Reflection* refl = message.GetReflection();
  if (desc->full_name() == "google.protobuf.Any") {
    std::string typeUrl = refl->GetString(message, desc->FindFieldByNumber(1));
    std::string value = refl->GetString(message, desc->FindFieldByNumber(2));
    if (typeUrl.empty() && value.empty()) return {};
    std::unique_ptr<gp::Message> inner = EnvoyTypes::instance().newMessage(typeUrl);
    if (!inner)
      return fail(ErrorCode::InvalidInput, fmt::format("{}: unknown type URL {:?}", path, typeUrl));
    if (!inner->ParseFromString(value))
      return fail(ErrorCode::InvalidInput, fmt::format("{}: value does not parse as {}", path, typeNameOf(typeUrl)));
    return walk(*inner, path, depth + 1);
  }
  if (desc->full_name() == "envoy.type.matcher.v3.RegexMatcher") {
    uint32_t limit = kMaxRegexProgramSize;
    // The deprecated per-matcher google_re2.max_program_size, when set, replaces the default.
    const gp::FieldDescriptor* engine = desc->FindFieldByName("google_re2");
    if (engine && refl->HasField(message, engine)) {
      const gp::Message& re2 = refl->GetMessage(message, engine);
      const gp::FieldDescriptor* max = re2.GetDescriptor()->FindFieldByName("max_program_size");
      if (max && re2.GetReflection()->HasField(re2, max)) {
        const gp::Message& wrapper = re2.GetReflection()->GetMessage(re2, max);
        limit = wrapper.GetReflection()->GetUInt32(wrapper, wrapper.GetDescriptor()->FindFieldByNumber(1));
      }
    }
    const gp::FieldDescriptor* regex = desc->FindFieldByName("regex");
    if (auto r = checkRegex(refl->GetString(message, regex), limit, path); !r) return r;
  }
  std::vector<const gp::FieldDescriptor*> fields;
  refl->ListFields(message, &fields);
  for (const gp::FieldDescriptor* field : fields) {
    if (field->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    std::string child = path + "." + field->name();
    if (field->is_repeated()) {
      for (int i = 0, n = refl->FieldSize(message, field); i < n; ++i)
        if (auto r = walk(refl->GetRepeatedMessage(message, field, i), fmt::format("{}[{}]", child, i), depth + 1); !r)
          return r;
    } else if (auto r = walk(refl->GetMessage(message, field), child, depth + 1); !r) {
      return r;
    }
  }
  return {};
}

Result<void> checkPort(const envoy::config::core::v3::Address& address, const std::string& path) {
  if (address.has_socket_address()) {
    const auto& sa = address.socket_address();
    if (sa.address().empty()) return fail(ErrorCode::InvalidInput, fmt::format("{}: socket address has no address", path));
    if (sa.has_port_value() && sa.port_value() > 65535)
      return fail(ErrorCode::InvalidInput, fmt::format("{}: port {} is not a TCP port", path, sa.port_value()));
  }
  return {};
}

template <class Chain>
void collectRdsNames(const Chain& chain, std::set<std::string>& out) {
  for (const auto& filter : chain.filters()) {
    if (!filter.has_typed_config() || filter.typed_config().type_url() != kHcmType) continue;
    HttpConnectionManager hcm;
    if (filter.typed_config().UnpackTo(&hcm) && hcm.has_rds() && !hcm.rds().route_config_name().empty())
      out.insert(hcm.rds().route_config_name());
  }
}

template <class Chain>
Result<void> checkFilterChain(const Chain& chain, const std::string& path) {
  for (int i = 0; i < chain.filters_size(); ++i) {
    const auto& filter = chain.filters(i);
    std::string at = fmt::format("{}.filters[{}]", path, i);
    if (filter.name().empty()) return fail(ErrorCode::InvalidInput, fmt::format("{}: filter has no name", at));
    if (!filter.has_typed_config() || filter.typed_config().type_url() != kHcmType) continue;
    HttpConnectionManager hcm;
    if (!filter.typed_config().UnpackTo(&hcm))
      return fail(ErrorCode::InvalidInput, fmt::format("{}: HttpConnectionManager does not parse", at));
    if (hcm.route_specifier_case() == HttpConnectionManager::ROUTE_SPECIFIER_NOT_SET)
      return fail(ErrorCode::InvalidInput, fmt::format("{}: HttpConnectionManager has neither rds nor route_config", at));
    if (hcm.has_rds() && hcm.rds().route_config_name().empty())
      return fail(ErrorCode::InvalidInput, fmt::format("{}: rds.route_config_name is empty", at));
    if (hcm.has_route_config())
      if (auto r = validateRouteConfiguration(hcm.route_config()); !r)
        return fail(ErrorCode::InvalidInput, fmt::format("{}.route_config: {}", at, r.error().message));
  }
  return {};
}

}  // namespace

Result<void> validateCluster(const envoy::config::cluster::v3::Cluster& c) {
  if (c.name().empty()) return fail(ErrorCode::InvalidInput, "cluster has no name");
  std::string path = fmt::format("cluster {:?}", c.name());
  if (c.has_connect_timeout() && c.connect_timeout().seconds() <= 0 && c.connect_timeout().nanos() <= 0)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: connect_timeout must be greater than 0", path));
  if (c.has_load_assignment())
    for (const auto& locality : c.load_assignment().endpoints())
      for (const auto& lb : locality.lb_endpoints())
        if (auto r = checkPort(lb.endpoint().address(), path + ".load_assignment"); !r) return r;
  return walk(c, path, 0);
}

Result<void> validateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla) {
  if (cla.cluster_name().empty()) return fail(ErrorCode::InvalidInput, "ClusterLoadAssignment has no cluster_name");
  std::string path = fmt::format("ClusterLoadAssignment {:?}", cla.cluster_name());
  for (int i = 0; i < cla.endpoints_size(); ++i) {
    const auto& locality = cla.endpoints(i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lb = locality.lb_endpoints(j);
      std::string at = fmt::format("{}.endpoints[{}].lb_endpoints[{}]", path, i, j);
      if (lb.has_load_balancing_weight() && lb.load_balancing_weight().value() < 1)
        return fail(ErrorCode::InvalidInput, fmt::format("{}: load_balancing_weight must be at least 1", at));
      if (lb.has_endpoint()) {
        if (!lb.endpoint().has_address()) return fail(ErrorCode::InvalidInput, fmt::format("{}: endpoint has no address", at));
        if (auto r = checkPort(lb.endpoint().address(), at); !r) return r;
      }
    }
  }
  return walk(cla, path, 0);
}

Result<void> validateListener(const envoy::config::listener::v3::Listener& l) {
  if (l.name().empty()) return fail(ErrorCode::InvalidInput, "listener has no name");
  std::string path = fmt::format("listener {:?}", l.name());
  if (!l.has_address() && !l.has_internal_listener())
    return fail(ErrorCode::InvalidInput, fmt::format("{}: listener has no address", path));
  if (auto r = checkPort(l.address(), path + ".address"); !r) return r;
  if (l.filter_chains_size() == 0 && !l.has_default_filter_chain())
    return fail(ErrorCode::InvalidInput, fmt::format("{}: no filter chains specified", path));
  for (int i = 0; i < l.filter_chains_size(); ++i)
    if (auto r = checkFilterChain(l.filter_chains(i), fmt::format("{}.filter_chains[{}]", path, i)); !r) return r;
  if (l.has_default_filter_chain())
    if (auto r = checkFilterChain(l.default_filter_chain(), path + ".default_filter_chain"); !r) return r;
  return walk(l, path, 0);
}

Result<void> validateRouteConfiguration(const envoy::config::route::v3::RouteConfiguration& rc) {
  std::string path = fmt::format("route configuration {:?}", rc.name());
  std::set<std::string, std::less<>> domains;
  std::set<std::string, std::less<>> hostNames;
  bool wildcard = false;
  for (const auto& vh : rc.virtual_hosts()) {
    std::string at = fmt::format("{}.virtual_host {:?}", path, vh.name());
    if (vh.name().empty()) return fail(ErrorCode::InvalidInput, path + ": a virtual host has no name");
    if (!hostNames.insert(vh.name()).second)
      return fail(ErrorCode::InvalidInput, fmt::format("{}: virtual host name {:?} is not unique", path, vh.name()));
    if (vh.domains_size() == 0) return fail(ErrorCode::InvalidInput, at + ": no domains");
    // Envoy: "Only unique values for domains are permitted", and one "*" per configuration.
    for (const std::string& d : vh.domains()) {
      if (d == "*") {
        if (std::exchange(wildcard, true))
          return fail(ErrorCode::InvalidInput, fmt::format("{}: only a single wildcard domain is permitted", path));
      } else if (!domains.insert(d).second) {
        return fail(ErrorCode::InvalidInput, fmt::format("{}: domain {:?} appears in more than one virtual host", path, d));
      }
    }
    for (int i = 0; i < vh.routes_size(); ++i)
      if (vh.routes(i).action_case() == envoy::config::route::v3::Route::ACTION_NOT_SET)
        return fail(ErrorCode::InvalidInput, fmt::format("{}.routes[{}]: route has no action", at, i));
  }
  return walk(rc, path, 0);
}

std::string edsServiceName(const envoy::config::cluster::v3::Cluster& c) {
  using envoy::config::cluster::v3::Cluster;
  if (!c.has_type() || c.type() != Cluster::EDS) return {};
  return c.eds_cluster_config().service_name().empty() ? c.name() : c.eds_cluster_config().service_name();
}

std::vector<std::string> rdsRouteNames(const envoy::config::listener::v3::Listener& l) {
  std::set<std::string> names;
  for (const auto& chain : l.filter_chains()) collectRdsNames(chain, names);
  if (l.has_default_filter_chain()) collectRdsNames(l.default_filter_chain(), names);
  return {names.begin(), names.end()};
}

}  // namespace mesh::proxy
