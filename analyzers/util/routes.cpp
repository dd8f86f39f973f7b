#include "analyzers/util/routes.h"

namespace mesh::analysis {
namespace {

Destination destinationOf(const core::Node& d, bool mirror) {
  Destination out;
  out.node = &d;
  out.mirror = mirror;
  if (const core::Node* h = d.get("host"); h && h->isScalar()) out.host = h->text();
  if (const core::Node* s = d.get("subset"); s && s->isScalar()) out.subset = s->text();
  out.port = d.get("port");
  return out;
}

}  // namespace

void forEachDestination(const core::Resource& vs, const std::function<void(const Destination&)>& visit) {
  const core::Node* spec = vs.spec();
  if (!spec || !spec->isMapping()) return;
  for (std::string_view section : {"http", "tcp", "tls"}) {
    const core::Node* routes = spec->get(section);
    if (!routes) continue;
    for (const core::Node* rule : routes->items()) {
      if (const core::Node* route = rule->get("route"))
        for (const core::Node* rd : route->items())
          if (const core::Node* d = rd->get("destination"); d && d->isMapping()) visit(destinationOf(*d, false));
      if (section != "http") continue;
      if (const core::Node* m = rule->get("mirror"); m && m->isMapping()) visit(destinationOf(*m, true));
      if (const core::Node* mirrors = rule->get("mirrors"))
        for (const core::Node* mp : mirrors->items())
          if (const core::Node* d = mp->get("destination"); d && d->isMapping()) visit(destinationOf(*d, true));
    }
  }
}

bool visibleTo(const core::Resource& r, std::string_view ns) {
  const core::Node* spec = r.spec();
  const core::Node* exportTo = spec ? spec->get("exportTo") : nullptr;
  if (!exportTo || exportTo->size() == 0) return true;
  for (const core::Node* e : exportTo->items()) {
    std::string_view v = e->text();
    if (v == "*" || v == ns || (v == "." && r.namespace_() == ns)) return true;
  }
  return false;
}

}  // namespace mesh::analysis
