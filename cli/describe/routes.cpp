#include "cli/describe/routes.h"

#include <algorithm>

#include <fmt/format.h>

#include "analyzers/util/service_lookup.h"
#include "analyzers/util/workloads.h"
#include "analyzers/virtualservice/vs_destinations.h"

namespace mesh::cli::describe {
namespace {

using core::Node;

std::span<const Node* const> itemsOf(const Node* n) { return n ? n->items() : std::span<const Node* const>(); }

// istioctl's renderStringMatch: exact as is, a prefix with a trailing '*'.
std::string renderStringMatch(const Node* sm) {
  if (!sm) return "";
  if (const Node* n = sm->get("exact")) return std::string(n->text());
  if (const Node* n = sm->get("prefix")) return std::string(n->text()) + "*";
  if (const Node* n = sm->get("regex")) return fmt::format("regex({})", n->text());
  return "";
}

std::string joinPairs(const Node* map, std::string_view sep, bool stringMatch) {
  std::string out;
  for (const core::MapEntry& e : map ? map->entries() : std::span<const core::MapEntry>()) {
    if (!out.empty()) out += sep;
    out += fmt::format("{}={}", e.key->text(), stringMatch ? renderStringMatch(e.value) : std::string(e.value->text()));
  }
  return out;
}

std::string joinList(const Node* seq) {
  std::string out;
  for (const Node* n : itemsOf(seq)) out += (out.empty() ? "" : ", ") + std::string(n->text());
  return out;
}

// istioctl's renderMatch: "Match: " + URI (+ " uncased") + " when headers are k=v; ...". The
// conditions istioctl leaves out are added in the same manner.
std::string renderMatch(const Node* m) {
  std::string out = "Match:";
  auto add = [&](const std::string& part) {
    if (!part.empty()) out += " " + part;
  };
  if (const Node* uri = m->get("uri")) {
    add(renderStringMatch(uri));
    if (m->get("ignoreUriCase") && m->get("ignoreUriCase")->asBool().value_or(false)) add("uncased");
  }
  if (const Node* sni = m->get("sniHosts")) add("SNI " + joinList(sni));
  if (const Node* method = m->get("method")) add("with method " + renderStringMatch(method));
  if (const Node* authority = m->get("authority")) add("for authority " + renderStringMatch(authority));
  if (const Node* headers = m->get("headers"); headers && headers->size() > 0)
    add("when headers are " + joinPairs(headers, "; ", true));
  if (const Node* without = m->get("withoutHeaders"); without && without->size() > 0) {
    std::string keys;
    for (const core::MapEntry& e : without->entries()) keys += (keys.empty() ? "" : ", ") + std::string(e.key->text());
    add("without headers " + keys);
  }
  if (const Node* query = m->get("queryParams"); query && query->size() > 0)
    add("with query params " + joinPairs(query, "; ", true));
  if (const Node* port = m->get("port")) add("on port " + std::string(port->text()));
  if (const Node* subnets = m->get("destinationSubnets")) add("to " + joinList(subnets));
  if (const Node* labels = m->get("sourceLabels"); labels && labels->size() > 0)
    add("from workloads " + joinPairs(labels, ",", false));
  if (const Node* ns = m->get("sourceNamespace")) add("from namespace " + std::string(ns->text()));
  if (const Node* gws = m->get("gateways")) add("through " + joinList(gws));
  return out;
}

struct Facts {
  std::vector<Line> lines;     // facts of routes that reach the target
  std::vector<Line> warnings;  // subset routing the DestinationRule cannot serve
  std::vector<std::string> mismatches;
};

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

RouteView routeView(const core::Resource& vs, std::string_view type, size_t index, const Node* rule,
                    const RouteTarget& t, Facts& facts) {
  RouteView r;
  r.type = std::string(type);
  r.index = index;
  r.name = std::string(analysis::scalarAt(rule, "name"));
  r.match = renderMatches(rule->get("match"));
  const DestinationRuleView* dr = t.destinationRule;
  for (const Node* dw : itemsOf(rule->get("route"))) {
    const Node* dest = dw->get("destination");
    RouteDestination d;
    d.host = std::string(analysis::scalarAt(dest, "host"));
    d.subset = std::string(analysis::scalarAt(dest, "subset"));
    if (const Node* w = dw->get("weight")) d.weight = w->asInt();
    d.toService = analysis::istioFqdn(vs.namespace_(), d.host, t.domain) == t.host;
    // Envoy sends nothing to a weighted destination of weight 0.
    bool weighted = !(d.weight && *d.weight == 0);
    if (d.toService && !d.subset.empty()) {
      if (!dr || !contains(dr->subsets, d.subset)) {
        facts.warnings.push_back(
            {1, dr ? fmt::format("WARNING: Route to UNKNOWN subset {}; check DestinationRule {}", d.subset,
                                 t.destinationRuleName)
                   : fmt::format("WARNING: Route to subset {} but NO DESTINATION RULE defining subsets!", d.subset)});
      } else if (t.knownWorkloads && !contains(dr->matchingSubsets, d.subset)) {
        facts.mismatches.push_back(fmt::format("Route to non-matching subset {} for ({})", d.subset, r.match));
      } else {
        d.reaches = weighted;
      }
    } else if (d.toService) {
      d.reaches = weighted;
    }
    if (d.toService && !d.reaches && !weighted)
      facts.mismatches.push_back(fmt::format("Route to host \"{}\" with weight 0% for ({})", d.host, r.match));
    r.reaches = r.reaches || d.reaches;
    r.destinations.push_back(std::move(d));
  }
  for (const RouteDestination& d : r.destinations) {
    if (!d.reaches) continue;
    std::string fact = fmt::format("Route to host \"{}\"", d.host);
    if (!d.subset.empty()) fact += fmt::format(" subset \"{}\"", d.subset);
    if (d.weight && *d.weight > 0) fact += fmt::format(" with weight {}%", *d.weight);
    facts.lines.push_back({1, fact + fmt::format(" for ({})", r.match)});
  }
  return r;
}

}  // namespace

std::string renderMatches(const Node* matches) {
  if (!matches || matches->items().empty()) return "everything";
  std::string out;
  for (const Node* m : matches->items()) out += (out.empty() ? "" : ", ") + renderMatch(m);
  return out;
}

bool routesToHost(const core::Resource& vs, std::string_view host, std::string_view domain) {
  auto names = [&](const analysis::VsDestination& d) {
    return d.destination && analysis::istioFqdn(vs.namespace_(), d.host(), domain) == host;
  };
  auto routes = analysis::vsRouteDestinations(vs);
  auto mirrors = analysis::vsMirrorDestinations(vs);
  return std::any_of(routes.begin(), routes.end(), names) || std::any_of(mirrors.begin(), mirrors.end(), names);
}

VirtualServiceView virtualServiceView(const core::Resource& vs, const RouteTarget& t) {
  VirtualServiceView v;
  v.vs = &vs;
  const Node* spec = vs.spec();
  v.gateways = analysis::stringList(spec ? spec->get("gateways") : nullptr);
  Facts facts;
  size_t total = 0;
  size_t reaching = 0;
  std::vector<std::pair<std::string_view, size_t>> counts;
  for (std::string_view type : {"http", "tls", "tcp"}) {
    auto rules = itemsOf(spec ? spec->get(type) : nullptr);
    counts.emplace_back(type, rules.size());
    for (size_t i = 0; i < rules.size(); ++i) {
      v.routes.push_back(routeView(vs, type, i, rules[i], t, facts));
      ++total;
      if (v.routes.back().reaches) ++reaching;
    }
  }
  // istioctl's "N HTTP route(s)" first, then which of them reach the target.
  for (auto [type, n] : counts) {
    std::string upper(type);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    if (n > 0) v.lines.push_back({1, fmt::format("{} {} route(s)", n, upper)});
  }
  for (Line& l : facts.lines) v.lines.push_back(std::move(l));
  for (Line& l : facts.warnings) v.lines.push_back(std::move(l));
  if (reaching == 0 && total > 0) {
    std::string what = t.noun == "service" ? "No destinations reach this service"
                                           : fmt::format("No destinations match {} subsets", t.noun);
    for (auto [type, n] : counts) {
      std::string upper(type);
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      if (n > 0) v.lines.push_back({1, fmt::format("WARNING: {} (checked {} {} routes)", what, n, upper)});
    }
    for (const std::string& m : facts.mismatches) v.lines.push_back({2, m});
  } else if (reaching < total) {
    v.lines.push_back({1, fmt::format("{} additional destination(s) that will not reach this {}", total - reaching, t.noun)});
  }
  return v;
}

}  // namespace mesh::cli::describe
