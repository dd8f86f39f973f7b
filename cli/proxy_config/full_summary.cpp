#include "cli/proxy_config/full_summary.h"

#include <functional>

#include "cli/proxy_config/bootstrap_writer.h"
#include "cli/proxy_config/secret_writer.h"

namespace mesh::cli::pc {

Result<std::string> fullSummary(const ConfigDumpView& dump, const FullSummaryOptions& o, std::string& printed) {
  struct Section {
    const char* title;
    std::function<Result<std::string>()> print;
  };
  const Section sections[] = {
      {"BOOTSTRAP", [&] { return bootstrapSummary(dump); }},
      {"CLUSTER", [&] { return clusterSummary(dump, o.clusters, true); }},
      {"LISTENER", [&] { return listenerSummary(dump, o.listeners, true); }},
      {"ROUTE", [&] { return routeSummary(dump, o.routes, true); }},
      {"SECRET", [&] { return secretSummary(dump, true, o.now); }},
      {"ENDPOINTS", [&] { return edsSummary(dump, o.endpoints, true); }},
  };
  printed.clear();
  bool first = true;
  for (const Section& s : sections) {
    if (!first) printed += "\n";
    first = false;
    if (o.withHeaders) printed += std::string("------ ") + s.title + " INFO ------\n\n";
    auto text = s.print();
    if (!text) return Failure(text.error());
    printed += *text;
  }
  return printed;
}

}  // namespace mesh::cli::pc
