// Builds the merged IstioOperator istioctl's way: the default profile, then the chosen profile
// over it (unless it is default), then each -f file in order, then each --set flag in order.
// The profile is chosen by the last --set profile=, else the last file's spec.profile, else
// "default". Every input is checked on its own (files with line numbers, flags by path) and the
// result once more as a whole. Pure apart from reading the files; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "install/profiles.h"

namespace mesh::install {

struct OperatorInputs {
  std::vector<std::string> files;  // -f, "-" for stdin
  std::vector<std::string> sets;   // --set path=value
  std::string profile;             // a positional PROFILE (profile dump); "" when none
};

// The merged IstioOperator document (apiVersion, kind, metadata, spec), keys sorted.
Result<nlohmann::json> buildOperator(const OperatorInputs& inputs, const ProfileSource& profiles);

// The install commands' shared flags: -d/--manifests, -f, --set, and istioctl's shorthands
// -p PROFILE and -r REVISION (--set profile=… and --set revision=…; later --set flags win).
struct InstallFlags {
  std::string manifests;
  std::vector<std::string> files;
  std::vector<std::string> sets;
  std::string profile;
  std::string revision;
};
Result<nlohmann::json> buildOperator(const InstallFlags& flags);

// One profile merged over default, with no user input: what `profile dump NAME` shows.
Result<nlohmann::json> loadProfile(const std::string& nameOrPath, const ProfileSource& profiles);

}  // namespace mesh::install
