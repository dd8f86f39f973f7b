#include "analyzers/virtualservice/vs_destinations.h"

namespace mesh::analysis {
namespace {

std::string_view scalarAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n && n->isScalar() ? n->text() : std::string_view();
}

}  // namespace

std::string_view VsDestination::host() const { return scalarAt(destination, "host"); }
std::string_view VsDestination::subset() const { return scalarAt(destination, "subset"); }

const core::Node* VsDestination::port() const {
  const core::Node* p = destination ? destination->get("port") : nullptr;
  return p && !p->isNull() ? p : nullptr;
}

std::vector<VsDestination> vsRouteDestinations(const core::Resource& vs) {
  std::vector<VsDestination> out;
  const core::Node* spec = vs.spec();
  if (!spec) return out;
  for (std::string_view section : {"tcp", "tls", "http"}) {
    const core::Node* rules = spec->get(section);
    if (!rules) continue;
    for (const core::Node* rule : rules->items()) {
      const core::Node* routes = rule->get("route");
      if (!routes) continue;
      for (const core::Node* rd : routes->items()) {
        const core::Node* d = rd->get("destination");
        if (d && !d->isMapping()) d = nullptr;
        out.push_back({section, d, d ? d : rd, rule});
      }
    }
  }
  return out;
}

std::vector<VsDestination> vsMirrorDestinations(const core::Resource& vs) {
  std::vector<VsDestination> out;
  const core::Node* spec = vs.spec();
  const core::Node* rules = spec ? spec->get("http") : nullptr;
  if (!rules) return out;
  for (const core::Node* rule : rules->items()) {
    if (const core::Node* m = rule->get("mirror"); m && m->isMapping()) out.push_back({"http.mirror", m, m, rule});
    if (const core::Node* mirrors = rule->get("mirrors")) {
      for (const core::Node* mp : mirrors->items()) {
        const core::Node* d = mp->get("destination");
        if (d && !d->isMapping()) d = nullptr;
        out.push_back({"http.mirrors", d, d ? d : mp, rule});
      }
    }
  }
  return out;
}

}  // namespace mesh::analysis
