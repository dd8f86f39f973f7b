#include "cli/proxy_config/bootstrap_writer.h"

#include <fmt/format.h>

#include "cli/proxy_config/tabwriter.h"

namespace mesh::cli::pc {

namespace {

std::string stringField(const google::protobuf::Struct& s, const std::string& key, bool& found) {
  auto it = s.fields().find(key);
  found = it != s.fields().end();
  return found ? it->second.string_value() : "";
}

}  // namespace

Result<std::string> bootstrapDump(const ConfigDumpView& dump, OutputFormat format) {
  auto bootstrap = dump.bootstrap();
  if (!bootstrap) return Failure(bootstrap.error());
  return printLegacyJson(*bootstrap, format);
}

Result<std::string> bootstrapSummary(const ConfigDumpView& dump) {
  auto bootstrap = dump.bootstrap();
  if (!bootstrap) return Failure(bootstrap.error());
  const auto& node = bootstrap->bootstrap().node();
  bool found = false;
  std::string istioVersion = stringField(node.metadata(), "ISTIO_VERSION", found);
  std::string proxySha = stringField(node.metadata(), "ISTIO_PROXY_SHA", found);
  if (size_t colon = proxySha.find(':'); colon != std::string::npos) {
    size_t next = proxySha.find(':', colon + 1);
    proxySha = proxySha.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1);
  }
  const auto& build = node.user_agent_build_version();
  std::string envoyVersion =
      fmt::format("{}.{}.{}", build.version().major_number(), build.version().minor_number(), build.version().patch());
  const auto& md = build.metadata();
  if (std::string v = stringField(md, "build.label", found); found) envoyVersion += "-" + v;
  if (std::string v = stringField(md, "revision.status", found); found) envoyVersion += "/" + v;
  if (std::string v = stringField(md, "build.type", found); found) envoyVersion += "/" + v;
  if (std::string v = stringField(md, "ssl.version", found); found) envoyVersion += "/" + v;

  TabWriter w(0, 8, 1);
  if (!istioVersion.empty()) w.write(fmt::format("Istio Version:\t{}\n", istioVersion));
  if (!proxySha.empty()) w.write(fmt::format("Istio Proxy Version:\t{}\n", proxySha));
  if (!envoyVersion.empty()) w.write(fmt::format("Envoy Version:\t{}\n", envoyVersion));
  return w.flush();
}

}  // namespace mesh::cli::pc
