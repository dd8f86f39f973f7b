// meshctl authz check [PROXY] --file F: which AuthorizationPolicies an Envoy enforces, read
// from the RBAC filters of a saved config dump (istioctl's x authz check -f).
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>

#include "cli/proxy_config/authz_writer.h"
#include "cli/proxy_config/dump_source.h"

namespace mesh::cli {
namespace {

struct AuthzOptions {
  std::string proxy;
  std::string file;
};

int runCheck(const AuthzOptions& o) {
  if (o.file.empty()) {
    if (o.proxy.empty()) return reportError({ErrorCode::Usage, "expecting pod name or config dump, found: 0", ""});
    return reportError({ErrorCode::Usage, "reading a live proxy is not supported yet",
                        "save the proxy's /config_dump and pass it with --file"});
  }
  pc::FileDumpSource source(o.file);
  auto dump = pc::loadConfigDump(source, pc::AdminResource::ConfigDump);
  if (!dump) return reportError(dump.error());
  auto text = pc::authzCheck(pc::ConfigDumpView(std::move(*dump)));
  if (!text) return reportError(text.error());
  std::fwrite(text->data(), 1, text->size(), stdout);
  return kExitOk;
}

}  // namespace

void addAuthzCommand(CLI::App& app, RunState& state) {
  auto* authz = app.add_subcommand("authz", "Inspect Istio AuthorizationPolicy");
  authz->require_subcommand(1);
  auto* check = authz->add_subcommand("check", "Check AuthorizationPolicy applied in the pod");
  auto opts = std::make_shared<AuthzOptions>();
  check->add_option("proxy", opts->proxy, "Pod name[.namespace] (live proxies: not supported yet)");
  check->add_option("-f,--file", opts->file, "The json file with Envoy config dump to be checked")->type_name("PATH");
  check->callback([opts, &state] { state.exitCode = runCheck(*opts); });
}

}  // namespace mesh::cli

