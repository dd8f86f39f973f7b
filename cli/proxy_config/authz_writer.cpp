#include "cli/proxy_config/authz_writer.h"

#include <fmt/format.h>
#include <google/protobuf/unknown_field_set.h>

#include <map>
#include <regex>
#include <set>

#include "cli/proxy_config/tabwriter.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::cli::pc {

namespace rbac = envoy::config::rbac::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using envoy::config::listener::v3::Listener;

namespace {

constexpr std::string_view kAnonymousName = "_anonymous_match_nothing_";

// The RBAC rules of a filter config. Only a typed_config of the expected type is read; an
// absent config reads as empty rules, like istioctl's.
bool rulesOfHttpFilter(const hcm::HttpFilter& f, rbac::RBAC& rules) {
  if (f.config_type_case() != hcm::HttpFilter::kTypedConfig) return true;
  if (typeNameOf(f.typed_config().type_url()) != "envoy.extensions.filters.http.rbac.v3.RBAC") return false;
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  if (!config.ParseFromString(f.typed_config().value())) return false;
  rules = config.rules();
  return true;
}

// The network RBAC filter (envoy.extensions.filters.network.rbac.v3.RBAC) has no generated C++
// here; its `rules` is field 1, an envoy.config.rbac.v3.RBAC.
bool rulesOfNetworkFilter(const envoy::config::listener::v3::Filter& f, rbac::RBAC& rules) {
  if (f.config_type_case() != envoy::config::listener::v3::Filter::kTypedConfig) return true;
  if (typeNameOf(f.typed_config().type_url()) != "envoy.extensions.filters.network.rbac.v3.RBAC") return false;
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(f.typed_config().value())) return false;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& field = fields.field(i);
    if (field.number() == 1 && field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      return rules.MergeFromString(field.length_delimited());
  }
  return true;
}

}  // namespace

Result<std::string> authzCheck(const ConfigDumpView& dump) {
  auto listeners = dump.dynamicListeners();
  if (!listeners)
    return fail(ErrorCode::InvalidInput, "failed to get dynamic listener dump: " + listeners.error().message);
  if (listeners->dynamic_listeners().empty()) return std::string();

  std::map<rbac::RBAC_Action, std::set<std::string>> actionToPolicy;
  std::map<std::string, std::set<std::string>> policyToRule;
  static const std::regex kPolicyName(R"(ns\[(.+)\]-policy\[(.+)\]-rule\[(.+)\])");
  auto addRules = [&](const rbac::RBAC& rules) {
    for (const auto& [name, policy] : rules.policies()) {
      std::smatch m;
      std::string policyName, rule;
      if (std::regex_search(name, m, kPolicyName)) {
        policyName = m[2].str() + "." + m[1].str();
        rule = m[3].str();
      }
      actionToPolicy[rules.action()].insert(policyName);
      policyToRule[policyName].insert(rule);
    }
    if (rules.policies().empty()) {
      actionToPolicy[rules.action()].insert(std::string(kAnonymousName));
      policyToRule[std::string(kAnonymousName)].insert("0");
    }
  };

  for (const auto& dl : listeners->dynamic_listeners()) {
    Listener l;
    if (!unpackAny(dl.active_state().listener(), l)) return std::string();
    for (const auto& fc : l.filter_chains()) {
      for (const auto& filter : fc.filters()) {
        if (filter.name() == "envoy.filters.network.http_connection_manager" ||
            filter.name() == "envoy.http_connection_manager") {
          hcm::HttpConnectionManager cm;
          if (filter.config_type_case() == envoy::config::listener::v3::Filter::kTypedConfig &&
              !unpackAny(filter.typed_config(), cm))
            continue;
          for (const auto& hf : cm.http_filters()) {
            rbac::RBAC rules;
            if (hf.name() == "envoy.filters.http.rbac" && rulesOfHttpFilter(hf, rules)) addRules(rules);
          }
        } else if (filter.name() == "envoy.filters.network.rbac") {
          rbac::RBAC rules;
          if (rulesOfNetworkFilter(filter, rules)) addRules(rules);
        }
      }
    }
  }

  TabWriter w(0, 8, 3);
  w.write("ACTION\tAuthorizationPolicy\tRULES\n");
  for (rbac::RBAC_Action action : {rbac::RBAC::DENY, rbac::RBAC::ALLOW, rbac::RBAC::LOG}) {
    auto names = actionToPolicy.find(action);
    if (names == actionToPolicy.end()) continue;
    for (const auto& name : names->second)
      w.write(fmt::format("{}\t{}\t{}\n", rbac::RBAC_Action_Name(action), name, policyToRule[name].size()));
  }
  return w.flush();
}

}  // namespace mesh::cli::pc
