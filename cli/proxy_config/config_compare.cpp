#include "cli/proxy_config/config_compare.h"

#include <ctime>

#include "cli/proxy_config/legacy_jsonpb.h"
#include "cli/proxy_config/unified_diff.h"

namespace mesh::cli::pc {
namespace {

constexpr int kContext = 7;
constexpr std::string_view kIndent = "   ";

template <class T>
std::string dumpText(const Result<T>& section) {
  return section ? legacyJsonpb(*section, kIndent) : section.error().message;
}

std::string compare(const char* kind, const std::string& istiod, const std::string& envoy, const std::string& suffix) {
  std::string diff = unifiedDiff(istiod, envoy, std::string("Istiod ") + kind, std::string("Envoy ") + kind, kContext);
  if (diff.empty()) return std::string(kind) + " Match" + suffix + "\n";
  return std::string(kind) + " Don't Match" + suffix + "\n" + diff + "\n";
}

// time.RFC1123 in the local time zone: "Mon, 02 Jan 2006 15:04:05 MST".
std::string rfc1123Local(const google::protobuf::Timestamp& t) {
  std::time_t secs = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %Z", &tm);
  return buf;
}

}  // namespace

std::string compareConfigs(const ConfigDumpView& istiod, const ConfigDumpView& envoy) {
  std::string out;
  out += compare("Clusters", dumpText(istiod.dynamicClusters()), dumpText(envoy.dynamicClusters()), "");
  out += compare("Listeners", dumpText(istiod.dynamicListeners()), dumpText(envoy.dynamicListeners()), "");
  std::string suffix;
  if (auto last = envoy.lastUpdatedDynamicRoute()) suffix = " (RDS last loaded at " + rfc1123Local(*last) + ")";
  out += compare("Routes", dumpText(istiod.dynamicRoutes()), dumpText(envoy.dynamicRoutes()), suffix);
  return out;
}

}  // namespace mesh::cli::pc
