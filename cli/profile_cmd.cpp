// meshctl profile list | dump [PROFILE] | diff A B: istioctl's profile commands over the
// built-in profiles (or --manifests DIR). `dump` prints a profile merged over default (and any
// -f overlays) as istioctl does, `diff` compares two of them and exits 1 when they differ.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "install/operator_config.h"
#include "install/set_path.h"
#include "install/text_diff.h"
#include "install/yaml_emit.h"

namespace mesh::cli {
namespace {

using Object = nlohmann::ordered_json;

struct DumpOptions {
  std::string profile;
  std::vector<std::string> files;
  std::string configPath;
  std::string output = "yaml";
  std::string manifests;
};

struct DiffOptions {
  std::string a;
  std::string b;
  std::string manifests;
};

// apiVersion, kind, metadata, spec first, as the files are written; keys inside sorted.
Object document(const nlohmann::json& iop) {
  Object out = Object::object();
  for (const char* key : {"apiVersion", "kind", "metadata", "spec"})
    if (iop.contains(key)) out[key] = Object(iop[key]);
  for (const auto& [key, value] : iop.items())
    if (!out.contains(key)) out[key] = Object(value);
  return out;
}

std::string escapeKey(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

// `-o flags`: one --set argument per leaf value, sorted, as istioctl prints them.
void flags(const nlohmann::json& value, const std::string& path, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) flags(v, path.empty() ? escapeKey(k) : path + "." + escapeKey(k), out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) flags(value[i], fmt::format("{}[{}]", path, i), out);
  } else {
    out.push_back(fmt::format("{}={}", path, value.dump()));
  }
}

std::string render(const Object& value, const std::string& format) {
  if (format == "json") return value.dump(4) + "\n";
  if (format == "flags") {
    std::vector<std::string> lines;
    flags(nlohmann::json(value.contains("spec") ? value["spec"] : value), "", lines);
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += "--set " + l + "\n";
    return out;
  }
  return install::toYaml(value);
}

int runList(const std::string& manifests) {
  auto profiles = install::ProfileSource::fromFlag(manifests);
  if (!profiles) return reportError(profiles.error());
  fmt::print("Istio configuration profiles:\n");
  for (const auto& name : profiles->names()) fmt::print("    {}\n", name);
  return kExitOk;
}

int runDump(const DumpOptions& opts) {
  auto profiles = install::ProfileSource::fromFlag(opts.manifests);
  if (!profiles) return reportError(profiles.error());
  install::OperatorInputs inputs;
  inputs.files = opts.files;
  inputs.profile = opts.profile;
  auto iop = install::buildOperator(inputs, *profiles);
  if (!iop) return reportError(iop.error());
  if (opts.configPath.empty()) {
    fmt::print("{}", render(document(*iop), opts.output));
    return kExitOk;
  }
  auto path = install::parsePath(opts.configPath);
  if (!path) return reportError(path.error());
  // Paths are relative to spec, like --set; a leading "spec." is accepted too.
  if (!path->empty() && path->front().kind == install::PathElement::Kind::Key && path->front().key == "spec")
    path->erase(path->begin());
  auto value = path->empty() ? Result<nlohmann::json>((*iop)["spec"]) : install::lookupPath((*iop)["spec"], *path);
  if (!value)
    return reportError({ErrorCode::NotFound,
                        fmt::format("--config-path {}: {}", opts.configPath, value.error().message),
                        "paths start below spec, e.g. components.pilot or values.global.hub"});
  fmt::print("{}", render(Object(*value), opts.output));
  return kExitOk;
}

int runDiff(const DiffOptions& opts) {
  auto profiles = install::ProfileSource::fromFlag(opts.manifests);
  if (!profiles) return reportError(profiles.error());
  auto a = install::loadProfile(opts.a, *profiles);
  if (!a) return reportError(a.error());
  auto b = install::loadProfile(opts.b, *profiles);
  if (!b) return reportError(b.error());
  // The profile's own name is the one line every pair differs in; compare what they install.
  (*a)["spec"].erase("profile");
  (*b)["spec"].erase("profile");
  std::string diff = install::unifiedDiff(install::toYaml(document(*a)), install::toYaml(document(*b)), opts.a, opts.b);
  if (diff.empty()) {
    fmt::print("Profiles are identical\n");
    return kExitOk;
  }
  fmt::print("The difference between profiles:\n{}", diff);
  return 1;
}

}  // namespace

void addProfileCommand(CLI::App& app, RunState& state) {
  auto* profile = app.add_subcommand("profile", "Commands related to install configuration profiles");
  profile->require_subcommand(1);

  auto* list = profile->add_subcommand("list", "Lists the install profiles");
  auto listDir = std::make_shared<std::string>();
  list->add_option("-d,--manifests", *listDir, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  list->callback([listDir, &state] { state.exitCode = runList(*listDir); });

  auto* dump = profile->add_subcommand("dump", "Dumps a profile merged over default (and any -f overlays)");
  auto d = std::make_shared<DumpOptions>();
  dump->add_option("profile", d->profile, "Profile name or file (default: default, or the overlays' spec.profile)");
  dump->add_option("-f,--filename", d->files, "IstioOperator overlay, merged in order (repeatable)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  dump->add_option("-p,--config-path", d->configPath, "Dump only this subtree, e.g. components.pilot");
  withChoices(dump->add_option("-o,--output", d->output, "Output format"), {"yaml", "json", "flags"});
  dump->add_option("-d,--manifests", d->manifests, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  dump->callback([d, &state] { state.exitCode = runDump(*d); });

  auto* diff = profile->add_subcommand("diff", "Diffs two profiles (exit 0 when identical, 1 when they differ)");
  auto f = std::make_shared<DiffOptions>();
  diff->add_option("a", f->a, "First profile name or file")->required();
  diff->add_option("b", f->b, "Second profile name or file")->required();
  diff->add_option("-d,--manifests", f->manifests, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  diff->callback([f, &state] { state.exitCode = runDiff(*f); });
}

}  // namespace mesh::cli
