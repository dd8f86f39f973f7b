// The one table of config kinds meshctl knows: group, versions, kind, plural, scope, short
// names and validator. The loader, validation, the Kubernetes REST paths, printers and shell
// completion all read it; adding a kind means adding a row in kinds.cpp.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"

namespace mesh::core {

class Resource;
class ValidationContext;
using Validator = void (*)(const Resource&, ValidationContext&);

struct KindInfo {
  std::string_view group;  // "" for the core API group
  std::string_view kind;
  std::string_view plural;
  std::string_view shortNames;  // comma-separated, as kubectl shows them
  std::vector<std::string_view> versions;  // served versions, preferred first
  bool namespaced = true;
  Validator validate = nullptr;  // Istio's semantic rules; nullptr: schema only

  std::string_view preferredVersion() const { return versions.front(); }
  std::string apiVersion() const {
    return group.empty() ? std::string(preferredVersion()) : std::string(group) + "/" + std::string(preferredVersion());
  }
  bool servesVersion(std::string_view v) const;
};

std::span<const KindInfo> allKinds();
// Exact group and kind; nullptr for kinds we do not know (they are still loaded and kept).
const KindInfo* findKind(std::string_view group, std::string_view kind);
// By kind name, plural or short name, case-insensitive (for CLI arguments like "vs").
const KindInfo* findKindByName(std::string_view name);

// "networking.istio.io/v1beta1" → {"networking.istio.io", "v1beta1"}; "v1" → {"", "v1"}.
std::pair<std::string_view, std::string_view> splitApiVersion(std::string_view apiVersion);

}  // namespace mesh::core
