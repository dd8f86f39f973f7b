#include "cli/proxy_config/ecds_writer.h"

#include <fmt/format.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/tabwriter.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/config/core/v3/extension.pb.h"

namespace mesh::cli::pc {

using envoy::config::core::v3::TypedExtensionConfig;

Result<std::string> ecdsSummary(const ConfigDumpView& dump) {
  auto ecds = dump.ecds();
  if (!ecds) return Failure(ecds.error());
  std::vector<TypedExtensionConfig> configs;
  for (const auto& f : ecds->ecds_filters()) {
    TypedExtensionConfig c;
    if (!unpackAny(f.ecds_filter(), c))
      return fail(ErrorCode::InvalidInput, "failed to retrieve TypedExtensionConfig: invalid data");
    configs.push_back(std::move(c));
  }
  goSortSlice(configs, [](const TypedExtensionConfig& a, const TypedExtensionConfig& b) {
    if (a.typed_config().type_url() == b.typed_config().type_url()) return a.name() < b.name();
    return a.typed_config().type_url() < b.typed_config().type_url();
  });
  TabWriter w(0, 8, 5);
  w.write("ECDS NAME\tTYPE\n");
  for (const auto& c : configs) {
    std::string_view type = c.typed_config().type_url();
    if (type.starts_with(kTypeUrlPrefix)) type.remove_prefix(kTypeUrlPrefix.size());
    w.write(fmt::format("{}\t{}\n", c.name(), type));
  }
  return w.flush();
}

Result<std::string> ecdsDump(const ConfigDumpView& dump, OutputFormat format) {
  auto ecds = dump.ecds();
  if (!ecds) return Failure(ecds.error());
  return printProtoJson(*ecds, format);
}

}  // namespace mesh::cli::pc
