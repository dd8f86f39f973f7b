#include "install/operator_config.h"

#include <fmt/format.h>

#include "core/store/config_store.h"
#include "core/version.h"
#include "install/overlay.h"
#include "install/set_path.h"
#include "install/spec_check.h"

namespace mesh::install {
namespace {

Result<nlohmann::json> readProfile(const std::string& nameOrPath, const ProfileSource& profiles) {
  auto file = profiles.find(nameOrPath);
  if (!file) return Failure(file.error());
  return readOperatorText(file->path, file->text);
}

// default.yaml, then the named profile over it, with the version's image tag filled in.
Result<nlohmann::json> profileBase(const std::string& nameOrPath, const ProfileSource& profiles) {
  auto merged = readProfile("default", profiles);
  if (!merged) return Failure(merged.error());
  // The images are this build's unless a profile or the user says otherwise: the tag is the
  // one value a static profile file cannot know.
  nlohmann::json& global = (*merged)["spec"]["values"]["global"];
  if (!global.contains("tag")) global["tag"] = std::string(kVersion);
  if (nameOrPath != "default") {
    auto overlay = readProfile(nameOrPath, profiles);
    if (!overlay) return Failure(overlay.error());
    mergeOverlay(*merged, *overlay);
  }
  (*merged)["spec"]["profile"] = nameOrPath;
  return merged;
}

}  // namespace

Result<nlohmann::json> loadProfile(const std::string& nameOrPath, const ProfileSource& profiles) {
  auto merged = profileBase(nameOrPath, profiles);
  if (!merged) return Failure(merged.error());
  if (auto ok = checkMerged(*merged); !ok) return Failure(ok.error());
  return merged;
}

Result<nlohmann::json> buildOperator(const OperatorInputs& inputs, const ProfileSource& profiles) {
  std::vector<nlohmann::json> overlays;
  std::string profile = inputs.profile.empty() ? "default" : inputs.profile;
  for (const auto& path : inputs.files) {
    auto overlay = readOperatorFile(path);
    if (!overlay) return Failure(overlay.error());
    if (overlay->contains("spec") && (*overlay)["spec"].contains("profile")) {
      const auto& p = (*overlay)["spec"]["profile"];
      if (p.is_string() && !p.get<std::string>().empty()) profile = p.get<std::string>();
    }
    overlays.push_back(std::move(*overlay));
  }
  std::vector<SetFlag> sets;
  for (const auto& text : inputs.sets) {
    auto flag = parseSetFlag(text);
    if (!flag) return Failure(flag.error());
    if (flag->path.size() == 1 && flag->path[0].kind == PathElement::Kind::Key && flag->path[0].key == "profile")
      profile = flag->value;
    sets.push_back(std::move(*flag));
  }
  if (!inputs.profile.empty() && profile != inputs.profile)
    return fail(ErrorCode::Usage,
                fmt::format("profile {} is given twice: as an argument and as {}", inputs.profile, profile),
                "name the profile once");

  auto merged = profileBase(profile, profiles);
  if (!merged) return Failure(merged.error());
  for (const auto& overlay : overlays) mergeOverlay(*merged, overlay);
  for (const auto& flag : sets)
    if (auto ok = applySetFlag((*merged)["spec"], flag); !ok) return Failure(ok.error());
  (*merged)["spec"]["profile"] = profile;
  if (auto ok = checkMerged(*merged); !ok) return Failure(ok.error());
  return merged;
}

Result<nlohmann::json> buildOperator(const InstallFlags& flags) {
  auto profiles = ProfileSource::fromFlag(flags.manifests);
  if (!profiles) return core::failWith(profiles.error());
  OperatorInputs inputs;
  inputs.files = flags.files;
  if (!flags.profile.empty()) inputs.sets.push_back("profile=" + flags.profile);
  if (!flags.revision.empty()) inputs.sets.push_back("revision=" + flags.revision);
  inputs.sets.insert(inputs.sets.end(), flags.sets.begin(), flags.sets.end());
  return buildOperator(inputs, *profiles);
}

}  // namespace mesh::install
