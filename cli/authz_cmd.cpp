// meshctl authz check PROXY|--admin URL|--file F: which AuthorizationPolicies a proxy enforces,
// read from the RBAC filters of its config (istioctl's x authz check): what meshd sends PROXY,
// the proxy's admin endpoint, or a saved config dump.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

#include <cstdio>

#include "cli/proxy_config/authz_writer.h"
#include "cli/proxy_config/dump_source.h"
#include "cli/proxy_config/live_sources.h"

namespace mesh::cli {
namespace {

struct AuthzOptions {
  std::string proxy;
  std::string file;
  std::string admin;
  MeshdFlags meshd;
};

int runCheck(const AuthzOptions& o) {
  if (o.file.empty() && o.proxy.empty() && o.admin.empty())
    return reportError({ErrorCode::Usage, "expecting pod name or config dump, found: 0", ""});
  auto source = pc::openProxySource({"authz check", o.proxy, o.file, o.admin, o.meshd});
  if (!source) return reportError(source.error());
  auto dump = pc::loadConfigDump(**source, pc::AdminResource::ConfigDump);
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
  check->add_option("proxy", opts->proxy, "Pod name[.namespace] or node id of a proxy connected to meshd");
  check->add_option("-f,--file", opts->file, "The json file with Envoy config dump to be checked")->type_name("PATH");
  check->add_option("--admin", opts->admin, "The proxy's admin endpoint, e.g. http://127.0.0.1:15000")->type_name("URL");
  addMeshdFlags(check, opts->meshd);
  check->callback([opts, &state] { state.exitCode = runCheck(*opts); });
}

}  // namespace mesh::cli

