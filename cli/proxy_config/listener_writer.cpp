#include "cli/proxy_config/listener_writer.h"

#include <fmt/format.h>

#include <strings.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/route_writer.h"
#include "cli/proxy_config/tabwriter.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace mesh::cli::pc {

using envoy::config::listener::v3::Filter;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::FilterChainMatch;
using envoy::config::listener::v3::Listener;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp = envoy::extensions::filters::network::tcp_proxy::v3;

namespace {

constexpr std::string_view kHttpListener = "envoy.filters.network.http_connection_manager";
constexpr std::string_view kTcpListener = "envoy.filters.network.tcp_proxy";
constexpr std::string_view kBlackHoleCluster = "BlackHoleCluster";

bool equalFold(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::vector<const FilterChain*> filterChains(const Listener& l) {
  std::vector<const FilterChain*> chains;
  for (const auto& fc : l.filter_chains()) chains.push_back(&fc);
  if (l.has_default_filter_chain()) chains.push_back(&l.default_filter_chain());
  return chains;
}

bool isBlackHoleTcp(const Filter& f) { return f.typed_config().value().find(kBlackHoleCluster) != std::string::npos; }

// HTTP, TCP, HTTP+TCP or UNKNOWN by the network filters of all chains.
std::string listenerType(const Listener& l) {
  int nHttp = 0, nTcp = 0;
  for (const FilterChain* fc : filterChains(l)) {
    for (const Filter& f : fc->filters()) {
      if (f.name() == kHttpListener)
        ++nHttp;
      else if (f.name() == kTcpListener && !isBlackHoleTcp(f))
        ++nTcp;
    }
  }
  if (nHttp > 0) return nTcp == 0 ? "HTTP" : "HTTP+TCP";
  return nTcp > 0 ? "TCP" : "UNKNOWN";
}

std::string listenerAddress(const Listener& l) {
  if (l.address().has_socket_address()) return l.address().socket_address().address();
  if (l.address().has_pipe()) return l.address().pipe().path();
  return "";
}

std::vector<std::string> additionalAddresses(const Listener& l) {
  std::vector<std::string> out;
  for (const auto& a : l.additional_addresses()) out.push_back(a.address().socket_address().address());
  return out;
}

uint32_t listenerPort(const Listener& l) { return l.address().socket_address().port_value(); }

// A route configuration that sends everything to one cluster reads as that cluster.
std::string matchAllCluster(const envoy::config::route::v3::RouteConfiguration& rc) {
  if (rc.virtual_hosts_size() != 1) return "";
  const auto& vh = rc.virtual_hosts(0);
  if (vh.domains_size() != 1 || vh.domains(0) != "*") return "";
  if (vh.routes_size() != 1) return "";
  const auto& r = vh.routes(0);
  if (r.match().prefix() != "/") return "";
  if (!r.has_route() || r.route().cluster_specifier_case() != envoy::config::route::v3::RouteAction::kCluster)
    return "";
  const std::string& cluster = r.route().cluster();
  return cluster.find("Cluster") != std::string::npos ? cluster : "Cluster: " + cluster;
}

std::string describeRouteConfig(const envoy::config::route::v3::RouteConfiguration& rc) {
  if (std::string cluster = matchAllCluster(rc); !cluster.empty()) return cluster;
  std::vector<std::string> vhosts;
  for (const auto& vh : rc.virtual_hosts()) {
    std::string domains =
        vh.domains_size() == 1 && vh.domains(0) == "*" ? "" : join({vh.domains().begin(), vh.domains().end()}, "/");
    std::vector<std::string> routes;
    for (const auto& r : vh.routes()) routes.push_back(describeMatch(r.match()));
    std::string described = join(routes, ", ");
    vhosts.push_back(domains.empty() ? described : domains + " " + described);
  }
  return "Inline Route: " + join(vhosts, "; ");
}

// Where a chain's traffic goes: a cluster, a route configuration, or an inline route.
std::string filterType(const FilterChain& fc) {
  for (const Filter& f : fc.filters()) {
    if (f.name() == kHttpListener) {
      hcm::HttpConnectionManager cm;
      if (!unpackAny(f.typed_config(), cm)) return "proto: cannot parse invalid wire-format data";
      if (cm.has_route_config()) return describeRouteConfig(cm.route_config());
      if (!cm.rds().route_config_name().empty()) return "Route: " + cm.rds().route_config_name();
      return "HTTP";
    }
    if (f.name() == kTcpListener && !isBlackHoleTcp(f)) {
      tcp::TcpProxy proxy;
      if (!unpackAny(f.typed_config(), proxy)) return "proto: cannot parse invalid wire-format data";
      return proxy.cluster().find("Cluster") != std::string::npos ? proxy.cluster() : "Cluster: " + proxy.cluster();
    }
  }
  return "Non-HTTP/Non-TCP";
}

bool sameList(const google::protobuf::RepeatedPtrField<std::string>& got,
              std::initializer_list<std::string_view> want) {
  return static_cast<size_t>(got.size()) == want.size() && std::equal(got.begin(), got.end(), want.begin());
}

std::string describeChainMatch(const FilterChainMatch& match) {
  std::vector<std::string> descrs;
  if (!match.server_names().empty())
    descrs.push_back("SNI: " + join({match.server_names().begin(), match.server_names().end()}, ","));
  if (!match.transport_protocol().empty()) descrs.push_back("Trans: " + match.transport_protocol());
  if (!match.application_protocols().empty()) {
    const auto& alpn = match.application_protocols();
    if (sameList(alpn, {"http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"}))
      descrs.push_back("App: HTTP TLS");
    else if (sameList(alpn, {"istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"}))
      descrs.push_back("App: Istio HTTP Plain");
    else if (sameList(alpn, {"istio-peer-exchange", "istio"}))
      descrs.push_back("App: TCP TLS");
    else if (sameList(alpn, {"http/1.0", "http/1.1", "h2c"}))
      descrs.push_back("App: HTTP");
    else
      descrs.push_back("App: " + join({alpn.begin(), alpn.end()}, ","));
  }
  std::string port = match.has_destination_port() ? fmt::format(":{}", match.destination_port().value()) : "";
  if (!match.prefix_ranges().empty()) {
    std::vector<std::string> ranges;
    for (const auto& p : match.prefix_ranges())
      ranges.push_back(fmt::format("{}/{}", p.address_prefix(), p.prefix_len().value()));
    descrs.push_back("Addr: " + join(ranges, ",") + port);
  } else if (!port.empty()) {
    descrs.push_back("Addr: *" + port);
  }
  if (descrs.empty()) return "ALL";
  return join(descrs, "; ");
}

}  // namespace

bool ListenerFilter::verify(const Listener& listener) const {
  if (address.empty() && port == 0 && type.empty()) return true;
  if (!address.empty()) {
    std::vector<std::string> addresses = additionalAddresses(listener);
    addresses.push_back(listenerAddress(listener));
    bool found = false;
    for (const auto& a : addresses) found = found || equalFold(a, address);
    if (!found) return false;
  }
  if (port != 0 && listenerPort(listener) != port) return false;
  if (!type.empty() && !equalFold(listenerType(listener), type)) return false;
  return true;
}

Result<std::vector<Listener>> dumpListeners(const ConfigDumpView& dump) {
  auto section = dump.listeners();
  if (!section) return fail(ErrorCode::InvalidInput, "listener dump: " + section.error().message);
  std::vector<Listener> listeners;
  for (const auto& l : section->dynamic_listeners()) {
    if (!l.has_active_state() || !l.active_state().has_listener()) continue;
    Listener typed;
    if (!unpackAny(l.active_state().listener(), typed))
      return fail(ErrorCode::InvalidInput, "unmarshal listener: invalid data");
    listeners.push_back(std::move(typed));
  }
  for (const auto& l : section->static_listeners()) {
    if (!l.has_listener()) continue;
    Listener typed;
    if (!unpackAny(l.listener(), typed)) return fail(ErrorCode::InvalidInput, "unmarshal listener: invalid data");
    listeners.push_back(std::move(typed));
  }
  if (listeners.empty()) return fail(ErrorCode::InvalidInput, "no listeners found");
  return listeners;
}

Result<std::string> listenerSummary(const ConfigDumpView& dump, const ListenerFilter& filter, bool namePrefix) {
  auto all = dumpListeners(dump);
  if (!all) return Failure(all.error());
  std::vector<Listener> listeners;
  for (auto& l : *all)
    if (filter.verify(l)) listeners.push_back(std::move(l));
  goSortSlice(listeners, [](const Listener& a, const Listener& b) {
    if (listenerPort(a) != listenerPort(b)) return listenerPort(a) < listenerPort(b);
    std::string aa = listenerAddress(a), ba = listenerAddress(b);
    if (aa != ba) return aa < ba;
    return listenerType(a) < listenerType(b);
  });

  TabWriter w(0, 8, 1);
  std::string header = "ADDRESSES\tPORT";
  if (namePrefix) header = "NAME\t" + header;
  header += filter.verbose ? "\tMATCH\tDESTINATION" : "\tTYPE";
  w.write(header + "\n");
  for (const Listener& l : listeners) {
    std::vector<std::string> addresses{listenerAddress(l)};
    for (auto& a : additionalAddresses(l)) addresses.push_back(std::move(a));
    std::string cells = fmt::format("{}\t{}", join(addresses, ","), listenerPort(l));
    if (namePrefix) cells = "listener/" + l.name() + "\t" + cells;
    if (!filter.verbose) {
      w.write(fmt::format("{}\t{}\n", cells, listenerType(l)));
      continue;
    }
    struct Chain {
      std::string match, destination;
    };
    std::vector<Chain> chains;
    for (const FilterChain* fc : filterChains(l))
      chains.push_back({describeChainMatch(fc->filter_chain_match()), filterType(*fc)});
    goSortSlice(chains, [](const Chain& a, const Chain& b) { return a.destination > b.destination; });
    for (const Chain& c : chains) w.write(fmt::format("{}\t{}\t{}\n", cells, c.match, c.destination));
  }
  return w.flush();
}

Result<std::string> listenerDump(const ConfigDumpView& dump, const ListenerFilter& filter, OutputFormat format) {
  auto listeners = dumpListeners(dump);
  if (!listeners) return Failure(listeners.error());
  std::vector<const google::protobuf::Message*> selected;
  for (const Listener& l : *listeners)
    if (filter.verify(l)) selected.push_back(&l);
  return printMessageList(selected, format);
}

}  // namespace mesh::cli::pc
