#include "cli/proxy_config/route_writer.h"

#include <fmt/format.h>

#include <set>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/istio_names.h"
#include "cli/proxy_config/tabwriter.h"

namespace mesh::cli::pc {

using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;

namespace {

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

bool endsWith(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

// Drops "a.svc.cluster.local" and "a.svc" when "a" is listed too; keeps the original order.
std::vector<std::string> unexpandDomains(const std::vector<std::string>& domains) {
  std::set<std::string> unique(domains.begin(), domains.end());
  std::set<std::string> drop;
  for (const auto& h : domains) {
    for (std::string_view suffix : {".svc.cluster.local", ".svc"}) {
      if (endsWith(h, suffix)) {
        std::string stripped = h.substr(0, h.size() - suffix.size());
        if (unique.contains(stripped)) drop.insert(h);
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& h : domains)
    if (!drop.contains(h)) out.push_back(h);
  return out;
}

// The shortest useful list of domains: without ports, expanded names folded, at most two.
std::string describeRouteDomains(const google::protobuf::RepeatedPtrField<std::string>& domains) {
  if (domains.empty()) return "";
  if (domains.size() == 1) return domains[0];
  std::vector<std::string> withoutPort;
  for (const auto& d : domains) {
    size_t colons = static_cast<size_t>(std::count(d.begin(), d.end(), ':'));
    if (colons == 0) {
      withoutPort.push_back(d);
    } else if (colons > 2 && d.ends_with("]")) {
      withoutPort.push_back(d);  // a bare IPv6 address such as [fd00:10:96::7fc7]
    }
  }
  withoutPort = unexpandDomains(withoutPort);
  constexpr size_t kMax = 2;
  if (withoutPort.size() > kMax) {
    std::vector<std::string> first(withoutPort.begin(), withoutPort.begin() + kMax);
    return fmt::format("{} + {} more...", join(first, ", "), withoutPort.size() - kMax);
  }
  return join(withoutPort, ", ");
}

bool isPassthrough(const Route& r) {
  return r.has_route() && r.route().cluster_specifier_case() == envoy::config::route::v3::RouteAction::kCluster &&
         r.route().cluster() == "PassthroughCluster";
}

}  // namespace

std::string describeMatch(const envoy::config::route::v3::RouteMatch& match) {
  std::vector<std::string> conds;
  if (!match.prefix().empty()) conds.push_back(match.prefix() + "*");
  if (!match.path_separated_prefix().empty()) conds.push_back("PathPrefix:" + match.path_separated_prefix());
  if (!match.path().empty()) conds.push_back(match.path());
  if (match.has_safe_regex()) conds.push_back("regex " + match.safe_regex().regex());
  // Headers are ignored, as istioctl does.
  return join(conds, " ");
}

Result<std::vector<RouteConfiguration>> sortedRoutes(const ConfigDumpView& dump) {
  auto section = dump.routes();
  if (!section) return Failure(section.error());
  std::vector<RouteConfiguration> routes;
  for (const auto& r : section->dynamic_route_configs()) {
    if (!r.has_route_config()) continue;
    RouteConfiguration typed;
    if (!unpackAny(r.route_config(), typed))
      return fail(ErrorCode::InvalidInput, "cannot decode a dynamic route configuration");
    routes.push_back(std::move(typed));
  }
  for (const auto& r : section->static_route_configs()) {
    if (!r.has_route_config()) continue;
    RouteConfiguration typed;
    if (!unpackAny(r.route_config(), typed))
      return fail(ErrorCode::InvalidInput, "cannot decode a static route configuration");
    routes.push_back(std::move(typed));
  }
  if (routes.empty()) return fail(ErrorCode::InvalidInput, "no routes found");
  // istioctl's comparator: numeric names by value, and "not less" whenever either is not a
  // number. Not an ordering, so the result depends on Go's exact algorithm (go_sort.h).
  goSortSlice(routes, [](const RouteConfiguration& a, const RouteConfiguration& b) {
    long long i = 0, j = 0;
    if (!goAtoi(a.name(), i)) return false;
    if (!goAtoi(b.name(), j)) return false;
    return i < j;
  });
  return routes;
}

Result<std::string> routeSummary(const ConfigDumpView& dump, const RouteFilter& filter, bool namePrefix) {
  auto routes = sortedRoutes(dump);
  if (!routes) return Failure(routes.error());
  TabWriter w(0, 8, 5);
  w.write(filter.verbose ? "NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE\n" : "NAME\tVIRTUAL HOSTS\n");
  for (const RouteConfiguration& route : *routes) {
    if (!filter.verify(route)) continue;
    std::string name = namePrefix ? "route/" + route.name() : route.name();
    if (!filter.verbose) {
      w.write(fmt::format("{}\t{}\n", name, route.virtual_hosts_size()));
      continue;
    }
    for (const auto& vhost : route.virtual_hosts()) {
      std::string domains = describeRouteDomains(vhost.domains());
      for (const Route& r : vhost.routes()) {
        if (isPassthrough(r)) continue;
        w.write(fmt::format("{}\t{}\t{}\t{}\t{}\n", name, vhost.name(), domains, describeMatch(r.match()),
                            describeManagement(r.has_metadata() ? &r.metadata() : nullptr)));
      }
      if (vhost.routes().empty()) w.write(fmt::format("{}\t{}\t{}\t/*\t404\n", name, vhost.name(), domains));
    }
  }
  return w.flush();
}

Result<std::string> routeDump(const ConfigDumpView& dump, const RouteFilter& filter, OutputFormat format) {
  auto routes = sortedRoutes(dump);
  if (!routes) return Failure(routes.error());
  std::vector<const google::protobuf::Message*> selected;
  for (const RouteConfiguration& r : *routes)
    if (filter.verify(r)) selected.push_back(&r);
  return printMessageList(selected, format);
}

}  // namespace mesh::cli::pc
