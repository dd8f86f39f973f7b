#include "controlplane/xds/listener_generator.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/listener_builders.h"

namespace mesh::xds {
namespace {

using envoy::config::listener::v3::Listener;

// Outbound listeners depend on the proxy's labels only through VirtualService tcp/tls matches
// on sourceLabels; only then do the labels join the cache key.
bool routesMatchOnSourceLabels(const ProxyView& view) {
  if (!view.snapshot.anyVirtualServiceMatchesSourceLabels()) return false;
  for (const core::Resource* vs : view.snapshot.virtualServices(view.proxy.namespace_, "mesh"))
    for (std::string_view block : {"tcp", "tls"})
      for (const core::Node* route : model::items(vs->spec() ? vs->spec()->get(block) : nullptr))
        for (const core::Node* m : model::items(route->get("match")))
          if (m->get("sourceLabels")) return true;
  return false;
}

std::string outboundListenerKey(const ProxyView& view) {
  std::string key = view.outboundKey("lds");
  if (routesMatchOnSourceLabels(view))
    for (const auto& [k, v] : view.proxy.labels) key += fmt::format("|{}={}", k, v);
  return key;
}

}  // namespace

XdsResources ListenerGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  auto add = [&](const Listener& l) {
    if (names.contains(l.name())) out.push_back(XdsResource::of(l.name(), l));
  };
  if (view.proxy.type == model::ProxyType::Router) {
    for (const Listener& l : buildGatewayListeners(view)) add(l);
    normalize(out);
    return out;
  }
  auto outbound = view.shared(outboundListenerKey(view), [&] {
    XdsResources all;
    for (const Listener& l : buildSidecarOutboundListeners(view)) all.push_back(XdsResource::of(l.name(), l));
    Listener virtualOutbound = buildVirtualOutboundListener(view);
    all.push_back(XdsResource::of(virtualOutbound.name(), virtualOutbound));
    return all;
  });
  // A headless service's per-endpoint listener for this very pod would shadow nothing useful
  // and duplicate the inbound path: Istio skips the proxy's own address.
  std::string ownPrefix = view.proxy.ips.empty() ? std::string() : view.proxy.ips.front() + "_";
  for (const XdsResource& r : *outbound) {
    if (!ownPrefix.empty() && r.name.starts_with(ownPrefix)) continue;
    if (names.contains(r.name)) out.push_back(r);
  }
  add(buildVirtualInboundListener(view));
  normalize(out);
  return out;
}

}  // namespace mesh::xds
