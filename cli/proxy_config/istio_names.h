// Istio's naming conventions that the proxy-config tables decode: cluster names
// ("outbound|8080|v1|reviews.default.svc.cluster.local"), the Istio config path recorded in
// Envoy metadata, localities. Pure functions, after pilot/pkg/model and istioctl.
#pragma once

#include <string>
#include <string_view>

#include "envoy/config/core/v3/base.pb.h"

namespace mesh::cli::pc {

struct SubsetKey {
  std::string direction;
  std::string subset;
  std::string hostname;
  long long port = 0;  // Go's int
};

// model.ParseSubsetKey: "dir|port|subset|host" or the DNS SRV form "dir_.port_.subset_.host".
SubsetKey parseSubsetKey(std::string_view name);
// istioctl's safelyParseSubsetKey: names with fewer than four '|' parts are a bare hostname.
SubsetKey safelyParseSubsetKey(std::string_view name);
bool hasSubsetKeyForm(std::string_view name);  // more than three '|'-separated parts

// "name.namespace" of the Istio resource recorded in metadata.filter_metadata["istio"]["config"],
// "" when there is none, "<unknown>" for paths that are not networking.istio.io resources.
std::string describeManagement(const envoy::config::core::v3::Metadata* metadata);

// util.LocalityToString: "region/zone/subzone", shortened when parts are empty.
std::string localityToString(const envoy::config::core::v3::Locality* locality);

// strconv.Atoi: optional sign and decimal digits, nothing else.
bool goAtoi(std::string_view s, long long& out);

}  // namespace mesh::cli::pc
